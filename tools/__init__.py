"""Development and test tools: not part of the product, not in the ``careloop`` wheel.

The product package is ``backend/`` (pyproject's ``packages.find`` includes ``backend*`` only);
what lives here serves developers, the test suite and the benchmarks, and may import
``backend`` (never the other way round):

- ``tools.fake_fcm``: a local fake of FCM and Google's OAuth token endpoint (``make fake-fcm``),
  used by the test suite and ``make bench-push``;
- ``tools.demo``: demo data for ``make run`` (``python -m tools.demo``), refused in production;
- ``tools/graphql-http-audit/``: graphql-http's conformance audit, a node script
  (``make audit-graphql-http``).
"""
