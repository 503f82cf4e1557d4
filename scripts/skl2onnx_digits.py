"""A third-party ONNX file for the interop check: scikit-learn's MLPClassifier trained on the
bundled digits train split and exported by skl2onnx (probabilities plus an int64 label output,
computed with ArgMax and ai.onnx.ml operators).

    python skl2onnx_digits.py DATASET_FOLDER OUTPUT.onnx
"""

import sys

from skl2onnx import to_onnx
from sklearn.neural_network import MLPClassifier

from onnx_interop import split


def main() -> None:
    folder, output = sys.argv[1], sys.argv[2]
    x, y = split(folder, "train")
    x = x.reshape(len(x), -1)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=400, random_state=0).fit(x, y)
    model = to_onnx(clf, x[:1], options={id(clf): {"zipmap": False}}, target_opset=17)
    with open(output, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
