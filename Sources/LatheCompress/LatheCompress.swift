// LatheCompress: pruning, quantization, distillation, transfer, entropy coding, pipelines.
