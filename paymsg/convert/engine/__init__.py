"""The one mapping engine every conversion is written with.

* :mod:`~paymsg.convert.engine.paths` — reading and writing message data by path;
* :mod:`~paymsg.convert.engine.carrier` — CNAPS2 values carried in ISO supplementary data;
* :mod:`~paymsg.convert.engine.restore` — putting carried values back, one rule for all;
* :mod:`~paymsg.convert.engine.loss` — the loss log, options, and the ``default`` policy;
* :mod:`~paymsg.convert.engine.table` — rows, pairs and the named policies.
"""
