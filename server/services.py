"""The long-lived services one app instance holds."""

from __future__ import annotations

from dataclasses import dataclass

from server.directory.service import DirectoryService
from server.settings import Settings


@dataclass
class Services:
    settings: Settings
    directory: DirectoryService
