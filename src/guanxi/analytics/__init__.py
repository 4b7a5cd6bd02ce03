"""Guanxi's customer analytics: pure numpy/scipy models with no Django dependency.

Modules: ``rfm`` (RFM scores, behaviour and value matrices), ``grading`` (Pareto grades,
customer pyramid, relationship stage), ``clv`` (BG/NBD, Pareto/NBD, Gamma-Gamma, CLV),
``pls`` (PLS path modelling and ACSI/ECSI indexes), ``kano`` (Kano evaluation and
Better/Worse), ``satisfaction`` (importance-performance, SERVQUAL gaps, NPS, C = b/a) and
``similarity`` (look-alike customers). Each follows the scikit-learn shape: array-likes in,
numpy arrays out, ``Model(...).fit(...)`` returns the model, fitted values end in ``_``.
"""
