"""The employees' portal: a Flask application served by waitress (``itdesk serve``).

A layer beside the command line: it may use core, store, channels and service, and
nothing below imports it. Every change goes through :mod:`itdesk.service.portal` and the
same :class:`~itdesk.service.session.Session` as the CLI.
"""
