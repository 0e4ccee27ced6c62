"""facecore: the vision engine (decoding, detection, embedding). Plain Python, no Django."""

from facecore.errors import ImageError
from facecore.settings import EngineSettings
from facecore.types import Box, Face, Landmarks

__all__ = ["Box", "EngineSettings", "Face", "ImageError", "Landmarks"]
