"""Every user-visible text, as Jinja2 templates under ``templates/<locale>/`` (shipped as package data)."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
