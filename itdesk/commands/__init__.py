"""Commands in modules of their own, loaded on demand by :class:`itdesk.cli.ItdeskGroup`.

A module ``NAME.py`` here that defines ``command`` (a click command or group) is the
command ``itdesk NAME`` (``_`` becomes ``-``; a trailing ``_`` is dropped, so
``import_.py`` is ``itdesk import``). Modules use the shared options and helpers of
:mod:`itdesk.cli` (``desk_options``, ``format_option``, ``lang_option``, ``Session``).
"""
