"""Command modules loaded on demand by :class:`itdesk.cli.ItdeskGroup`.

Each module defines a click command (or group) using the shared options of
:mod:`itdesk.cli` (``desk_options``, ``format_option``, ``lang_option``, ``Session``)
and is registered in :data:`itdesk.cli.LAZY_COMMANDS`.
"""
