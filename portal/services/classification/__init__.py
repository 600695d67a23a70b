"""Classification of the archive (issue 6, DOMAIN.md "Classification and analysis"):

* :mod:`.abc` — ABC value classes over a period, gold and drag customers;
* :mod:`.matrix` — the turnover × profit matrix and the relationship type (loyalty × profit);
* :mod:`.rfm` — RFM scores and segments, the cut-point method of the R package ``rfm``;
* :mod:`.lists` — the working lists: big customers who complained, last year's top customers
  and this year's orders, customers buying one or two product lines;
* :mod:`.runs` — running a classification, storing the run and its results, applying the ABC
  grade to the cards or proposing it for review;
* :mod:`.reports` — reading stored runs for the pages: counts per class, drill-down.

No Flask here. Per-customer numbers are aggregated in SQL (GROUP BY); the classing of the
aggregates (one row per customer) is done in Python. Functions that serve a page take
``condition``: a WHERE condition on Customer (``security.scope.customer_condition(user)``) or
None for every customer. A run itself always covers every customer.
"""
from .common import ClassificationError, Period  # noqa: F401
