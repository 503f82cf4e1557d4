// LatheIO: model files and dataset readers.
