"""Signals of the socialfeed app.

``posts_ingested`` is sent once a batch stored by ``services.posts_ingest`` has committed, with ``brand_ids``:
the brands whose mentions or official posts the batch created or changed. The incidents app listens to check
those brands' alerts at once (METRICS.md §8) without socialfeed knowing about alerts.
"""
from django.dispatch import Signal

posts_ingested = Signal()
