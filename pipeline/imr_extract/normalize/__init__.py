"""Pure parsing functions, testable without a pipeline."""
