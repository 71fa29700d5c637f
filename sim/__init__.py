"""Agent-based simulator of ageing and long-term-care capacity for Chinese cities."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
