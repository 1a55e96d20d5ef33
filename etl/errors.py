"""One family of errors: every error the pipeline raises on purpose derives from :class:`IgaError`.

The command line catches the family, prints one clear line and exits with the error's
``exit_code``; anything else is a bug and keeps its traceback. Each error lives next to the code
that raises it (``etl.read.UnreadableFile``, ``etl.load.UnknownReferenceCode``, ...).
"""
from __future__ import annotations

EXIT_OK, EXIT_DATA_ERRORS, EXIT_REFUSED, EXIT_PIPELINE_FAILED = 0, 1, 2, 3


class IgaError(Exception):
    """An error of the pipeline with a message meant for the person who ran it."""

    exit_code = EXIT_PIPELINE_FAILED


class ConfigurationError(IgaError, ValueError):
    """An ``IGA_*`` variable holds a value the pipeline cannot use."""
