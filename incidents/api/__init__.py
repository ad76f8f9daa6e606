"""Hotline's JSON API under /api/v1/: the figures of the pages, e-mails and exports for scripts, bots and BI tools.

Plain function views (``views.py``) over the same selectors and services as the pages: brands through
``incidents.roles.brands_visible_to`` (another team's object is a 404), figures from ``incidents.figures``,
``incidents.reports`` and ``incidents.exports``, writes through ``incidents.forms`` and ``incidents.services``.
``params.py`` reads query parameters (a bad one is a 400 naming it), ``pagination.py`` pages by keyset,
``authentication.py`` and ``rate_limit.py`` admit personal tokens, ``errors.py`` words every refusal, and
``schema.py`` adds what drf-spectacular cannot see to the OpenAPI description at /api/v1/schema/.
"""
