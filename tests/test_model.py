"""TopicModel: save/load round trip, validation of model files, ordering, transform."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLES
from topicnmf import ModelFileError, TopicModel, load_corpus
from topicnmf.model import FORMAT_VERSION, normalize_rows, order_topics


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def write_npz(path: Path, arrays: dict) -> Path:
    np.savez(path, **arrays)
    return path


def test_round_trip_keeps_everything(hobbies_model, tmp_path):
    m = TopicModel.load(hobbies_model)
    again = tmp_path / "again.npz"
    m.save(again)
    m2 = TopicModel.load(again)
    np.testing.assert_array_equal(m.H, m2.H)
    assert m.vocabulary == m2.vocabulary
    np.testing.assert_array_equal(m.vectorizer.idf, m2.vectorizer.idf)
    assert m.vectorizer.config == m2.vectorizer.config
    assert m.nmf_config == m2.nmf_config
    assert m.stats == m2.stats and m.fingerprint == m2.fingerprint
    np.testing.assert_array_equal(m.topic_share, m2.topic_share)


def test_model_holds_only_plain_arrays(hobbies_model):
    for key, a in arrays_of(hobbies_model).items():
        assert a.dtype.kind in "biufU", (key, a.dtype)


def test_topics_are_ordered_by_share(hobbies_model):
    m = TopicModel.load(hobbies_model)
    assert np.all(np.diff(m.topic_share) <= 0)
    assert abs(m.topic_share.sum() - 1) < 1e-9


def test_order_topics_is_scale_invariant():
    rng = np.random.default_rng(0)
    W, H = rng.random((6, 3)), rng.random((3, 5))
    scale = np.array([10.0, 0.1, 1.0])
    W2, H2, share = order_topics(W * scale, H / scale[:, None])
    W1, H1, share1 = order_topics(W, H)
    np.testing.assert_allclose(share, share1)
    np.testing.assert_allclose(W2 @ H2, W1 @ H1)


def test_transform_matches_training_weights(tmp_path):
    from topicnmf import NMFConfig, VectorizerConfig, fit

    corpus = load_corpus([SAMPLES / "news.csv"], id_column="id")
    out = fit(corpus, VectorizerConfig(), NMFConfig(n_components=4))
    texts = [d.text for d in corpus]
    np.testing.assert_allclose(out.model.transform(texts), out.W, rtol=1e-5, atol=1e-7)
    # row-independent: one document at a time gives the same weights
    one = np.vstack([out.model.transform([t]) for t in texts[:5]])
    np.testing.assert_allclose(one, out.W[:5], rtol=1e-5, atol=1e-7)


def test_top_terms_and_labels(hobbies_model):
    m = TopicModel.load(hobbies_model)
    tops = m.top_terms(5)
    assert len(tops) == 4 and all(len(t) == 5 for t in tops)
    for row in tops:
        weights = [w for _, w in row]
        assert weights == sorted(weights, reverse=True)
    assert m.topic_labels()[0] == "_".join(t for t, _ in tops[0][:3])
    with pytest.raises(ValueError):
        m.top_terms(0)


def test_normalize_rows_keeps_zero_rows():
    W = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize_rows(W), [[0.25, 0.75], [0.0, 0.0]])


# -- bad model files -------------------------------------------------------------------------


def _mutated(hobbies_model: Path, tmp_path: Path, **changes) -> Path:
    arrays = arrays_of(hobbies_model)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return write_npz(tmp_path / "mutated.npz", arrays)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        TopicModel.load(tmp_path / "nothing.npz")


def test_truncated_file(hobbies_model, tmp_path):
    data = hobbies_model.read_bytes()
    p = tmp_path / "trunc.npz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a valid topicnmf model"):
        TopicModel.load(p)


def test_not_an_npz(tmp_path):
    p = tmp_path / "text.npz"
    p.write_text("hello")
    with pytest.raises(ModelFileError, match="not an .npz"):
        TopicModel.load(p)


def test_npz_of_something_else(tmp_path):
    p = write_npz(tmp_path / "other.npz", {"x": np.arange(3)})
    with pytest.raises(ModelFileError, match="something else"):
        TopicModel.load(p)


def test_newer_format_version(hobbies_model, tmp_path):
    p = _mutated(hobbies_model, tmp_path, format_version=np.array(FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match="upgrade topicnmf"):
        TopicModel.load(p)


def test_object_arrays_are_refused_and_never_unpickled(hobbies_model, tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    arrays = arrays_of(hobbies_model)
    arrays["labels"] = np.array([Evil()] * 4, dtype=object)
    p = tmp_path / "evil.npz"
    np.savez(p, **arrays)
    with pytest.raises(ModelFileError, match="object arrays"):
        TopicModel.load(p)
    assert not marker.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ("H_columns", r"terms\) but H has shape"),
        ("H_nan", "NaN"),
        ("H_negative", "negative"),
        ("missing_H", "'H' is missing"),
        ("share_length", "topic_share"),
        ("meta_garbage", "settings record"),
    ],
)
def test_inconsistent_contents(change, message, hobbies_model, tmp_path):
    a = arrays_of(hobbies_model)
    H = a["H"]
    changes = {
        "H_columns": {"H": H[:, :-1]},
        "H_nan": {"H": np.where(H == H.max(), np.nan, H).astype(np.float32)},
        "H_negative": {"H": (H - 1).astype(np.float32)},
        "missing_H": {"H": None},
        "share_length": {"topic_share": np.ones(7)},
        "meta_garbage": {"meta": np.array("{not json")},
    }[change]
    with pytest.raises(ModelFileError, match=message):
        TopicModel.load(_mutated(hobbies_model, tmp_path, **changes))


def test_huge_declared_size_is_refused_before_reading(tmp_path):
    # A zip whose directory claims a 4 GB member stored in a few bytes: refused from the
    # directory alone (by the size or the compression-ratio rule), before numpy reads it.
    p = tmp_path / "bomb.npz"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("H.npy", b"x" * 10)
    data = bytearray(buf.getvalue())
    # patch the uncompressed size in the central directory record (offset 24 after its signature)
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (0xFFFFFFFF - 1).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="declares|compression ratio"):
        TopicModel.load(p)


def test_meta_is_json_not_code(hobbies_model):
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    assert meta["nmf_config"]["n_components"] == 4


def test_a_model_from_before_the_exact_svd_says_it_used_the_randomized_one(hobbies_model, tmp_path):
    assert TopicModel.load(hobbies_model).nmf_config.svd == "exact"
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    del meta["nmf_config"]["svd"]
    old = TopicModel.load(_mutated(hobbies_model, tmp_path, meta=np.array(json.dumps(meta))))
    assert old.nmf_config.svd == "randomized"
