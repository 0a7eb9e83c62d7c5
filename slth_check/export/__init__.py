"""Export of slth-check's objects to other tools' formats (issue 12).

``slth-check export vnnlib`` (:mod:`~slth_check.cli.export`) writes the difference
network ``f - g`` of a target CNN and a pruned random CNN as ONNX
(:mod:`~slth_check.export.onnx_graph`, the optional ``onnx`` extra) and the property
``exists X in [0, 1]^n: ||f(X) - g(X)||_max >= eps`` as VNN-LIB
(:mod:`~slth_check.export.vnnlib`), with a README and a manifest
(:mod:`~slth_check.export.bundle`).  Both exporters walk one description of the forward
passes (:mod:`~slth_check.export.program`); :mod:`~slth_check.export.rounding` bounds the
float32 graph's distance to the exact ``f - g``.  A verifier's verdict on the export is
evidence in float32, never a slth-check ``holds``.
"""
