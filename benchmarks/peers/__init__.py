"""Peer implementations of the reference model (DESIGN section 6) in other frameworks.

``mesa_reference``: the reference model in Mesa 3 (install with ``pip install -e .[peers]``).
See ``README.md`` in this folder.
"""
