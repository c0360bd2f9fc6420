"""Repository generator: ``python -m codegen`` regenerates ``paymsg/models/``."""
