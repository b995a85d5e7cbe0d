"""Vendor contracts: what the seeds document and what we assume.

Everything here is data about a vendor's API, kept in one place so an assumption
can be corrected without touching the engine (see ``shared/vendor-notes.md``).
The client code and the sandbox both import from here.
"""
