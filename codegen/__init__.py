"""The repository's driver: ``python -m codegen`` regenerates ``paymsg/models/``.

It is not installed with paymsg. The generator it runs is :mod:`paymsg.codegen`, the same
one behind ``paymsg codegen`` and schema packs.
"""
