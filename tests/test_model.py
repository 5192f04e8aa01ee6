"""TopicModel and its file: round trip, checks of hostile files, same bytes, DataFrames."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# -- the file says what it holds, and holds what the model needs ----------------------------


def _consistent(base: dict[str, np.ndarray], k: int, n: int, n_docs: int) -> dict[str, np.ndarray]:
    """The hobbies model's arrays reshaped to k topics, n terms and n_docs training documents,
    every shape, count and idf agreeing; H is left out (the caller adds it)."""
    from topicnmf.packing import pack_strings

    a = dict(base)
    a.pop("H")
    a["vec_vocabulary_utf8"], a["vec_vocabulary_offsets"] = pack_strings(
        [f"t{i:06d}" for i in range(n)]
    )
    a["vec_document_frequency"] = np.ones(n, np.int64)
    a["vec_idf"] = np.full(n, np.log((1 + n_docs) / 2) + 1.0)
    a["vec_n_documents"] = np.array(n_docs)
    a["topic_share"] = np.full(k, 1.0 / k)
    a["labels"] = np.array([""] * k)
    a["dominant_count"] = np.zeros(k, np.int64)
    a["ref_n_documents"] = np.array(n_docs)
    a["ref_columns"] = np.zeros(0, np.int64)
    a["ref_indptr"] = np.zeros(1, np.int64)
    a["ref_docs"] = np.zeros(0, np.int32)
    meta = json.loads(str(a["meta"]))
    meta["nmf_config"]["n_components"] = k
    meta["stats"].update(n_terms=n, n_documents=n_docs)
    a["meta"] = np.array(json.dumps(meta))
    return a


def _write_with_zeros(path: Path, arrays: dict, name: str, shape: tuple[int, ...]) -> Path:
    """An .npz of ``arrays`` plus member ``name``: float32 zeros of ``shape``, deflated,
    written in pieces (the test never holds the array)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
            zf.writestr(key + ".npy", buf.getvalue())
        with zf.open(name + ".npy", "w", force_zip64=True) as fh:
            header = {"descr": "<f4", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(fh, header)
            left = 4 * int(np.prod(shape))
            chunk = bytes(1 << 22)
            while left:
                fh.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
    return path


def _peak_bytes_of(call) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_shapes_the_data_does_not_back_are_refused_before_reading(hobbies_model, tmp_path):
    # every shape and count agrees (k=2048 topics, n=8192 terms, a million documents), but
    # the 64 MiB of H are zeros that deflate to nothing: the file is far too small for them
    arrays = _consistent(arrays_of(hobbies_model), 2048, 8192, 10**6)
    p = _write_with_zeros(tmp_path / "zeros.npz", arrays, "H", (2048, 8192))
    assert p.stat().st_size < 2**20

    def load():
        with pytest.raises(ModelFileError, match="declares arrays of 68,"):
            TopicModel.load(p)

    assert _peak_bytes_of(load) < 8 * 2**20


def test_the_budget_follows_the_file_size(hobbies_model, tmp_path, monkeypatch):
    # the same kind of model, small enough for the floor: it loads; with the floor lowered
    # it is refused, and with the ratio raised it loads again
    import topicnmf.modelfile as modelfile

    arrays = _consistent(arrays_of(hobbies_model), 200, 2000, 10**6)
    H = np.zeros((200, 2000), np.float32)
    H[np.arange(200), np.arange(200)] = 1.0
    p = tmp_path / "m.npz"
    np.savez_compressed(p, **arrays, H=H)  # about 100 times smaller than its arrays
    assert TopicModel.load(p).n_topics == 200
    monkeypatch.setattr(modelfile, "UNPACKED_FLOOR", 0)
    with pytest.raises(ModelFileError, match="at most 50 times the file's size"):
        TopicModel.load(p)
    monkeypatch.setattr(modelfile, "MAX_UNPACKED_RATIO", 1000)
    TopicModel.load(p)


def test_a_stated_corpus_size_costs_nothing_to_evaluate(hobbies_model, tmp_path):
    # 2**40 training documents stated everywhere (vectorizer, statistics, reference): the
    # model is valid, and coherence on the training corpus must not allocate per document
    a = arrays_of(hobbies_model)
    N = 2**40
    meta = json.loads(str(a["meta"]))
    meta["stats"]["n_documents"] = N
    df = a["vec_document_frequency"]
    changes = {
        "meta": np.array(json.dumps(meta)),
        "vec_n_documents": np.array(N),
        "ref_n_documents": np.array(N),
        "vec_idf": np.log((1 + N) / (1 + df)) + 1.0,
    }
    m = TopicModel.load(_mutated(hobbies_model, tmp_path, **changes))
    result = {}
    peak = _peak_bytes_of(lambda: result.update(e=m.evaluate()))
    assert peak < 20 * 2**20
    assert result["e"].n_documents == N and np.isfinite(result["e"].npmi)


def test_coherence_from_the_stored_incidence_equals_the_corpus(hobbies_model):
    from topicnmf import load_corpus

    m = TopicModel.load(hobbies_model)
    V = m.vectorizer.transform(d.text for d in load_corpus([SAMPLES / "hobbies"]))
    for top_n in (2, 10, 20):
        stored = m.evaluate(top_n=top_n)
        full = m.evaluate(V, top_n=top_n)
        np.testing.assert_allclose(
            [t.npmi for t in stored.topics], [t.npmi for t in full.topics], rtol=1e-12
        )


def test_members_it_does_not_know_are_never_read(hobbies_model, tmp_path):
    # a newer topicnmf may add members: they are ignored, whatever they declare
    p = _write_with_zeros(tmp_path / "future.npz", arrays_of(hobbies_model), "future", (2**20,))
    assert TopicModel.load(p).n_topics == 4


def test_every_member_written_is_described(hobbies_model, tmp_path):
    # the table of members is the format: a member the writer adds must be listed, or the
    # reader would never read it (and a vectorizer array missing would fail every load)
    from topicnmf import NMFConfig, VectorizerConfig, fit
    from topicnmf.modelfile import MEMBERS, model_arrays
    from topicnmf.tree import fit_tree

    out = fit(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(), NMFConfig(n_components=3),
              save_doc_topics=True)  # fmt: skip
    # window topics are written by dynamic fits only, the tree members by `fit_tree` only
    windows = {name for name in MEMBERS if name.startswith("window_")}
    trees = {name for name in MEMBERS if name.startswith("tree_")}
    assert set(model_arrays(out.model)) == set(MEMBERS) - windows - trees
    n = out.model.stats.n_documents
    dynamic = fit(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(),
                  NMFConfig(n_components=2), save_doc_topics=True,
                  windows=(np.arange(n) % 2, ["2020", "2021"], ["2021", "2022"]))  # fmt: skip
    assert set(model_arrays(dynamic.model)) == set(MEMBERS) - trees
    tree = fit_tree(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(), 3, save_doc_topics=True)
    assert set(model_arrays(tree.model)) == set(MEMBERS) - windows


def test_statistics_fields_all_have_a_type_check():
    import dataclasses

    from topicnmf.modelfile import _STAT_TYPES, FitStats

    assert {str(f.type) for f in dataclasses.fields(FitStats)} <= set(_STAT_TYPES)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.update(nmf_config="cd"), "nmf_config is not an object"),
        (lambda m: m["nmf_config"].pop("n_components"), "n_components"),
        (lambda m: m["nmf_config"].update(n_components=4.0), "n_components"),
        (lambda m: m["nmf_config"].update(n_components=True), "n_components"),
        (lambda m: m["nmf_config"].update(tol=float("inf")), "tol"),
        (lambda m: m["nmf_config"].update(alpha_W=[1]), "alpha_W"),
        (lambda m: m["nmf_config"].update(dtype=None), "dtype"),
        (lambda m: m.update(stats="fast"), "statistics are not an object"),
        (lambda m: m["stats"].update(n_documents=-1), "stats.n_documents"),
        (lambda m: m["stats"].update(relative_error=float("nan")), "stats.relative_error"),
        (lambda m: m["stats"].update(loss=None), "stats.loss"),
        (lambda m: m["stats"].update(seconds_nmf="1 s"), "stats.seconds_nmf"),
        (lambda m: m.update(versions={"numpy": 2}), "versions"),
        (lambda m: m.update(created=0), "created"),
    ],
)
def test_settings_record_fields_of_the_wrong_type(edit, message, hobbies_model, tmp_path):
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    edit(meta)
    p = _mutated(hobbies_model, tmp_path, meta=np.array(json.dumps(meta)))
    with pytest.raises(ModelFileError, match=f"settings record is unreadable.*{message}"):
        TopicModel.load(p)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(path=st.sampled_from(["", "nmf_config", "stats", "versions"]),
       key=st.sampled_from(["n_components", "tol", "seed", "n_iter", "loss", "converged",
                            "numpy", "fingerprint", "created", "stats", "nmf_config"]),
       value=JSON_VALUES)  # fmt: skip
def test_any_settings_record_is_a_model_or_one_error(path, key, value, hobbies_model, tmp_path):
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    target = meta[path] if path else meta
    if isinstance(target, dict):
        target[key] = value
    p = _mutated(hobbies_model, tmp_path, meta=np.array(json.dumps(meta)))
    try:
        TopicModel.load(p)
    except ModelFileError as exc:
        assert "is not a valid topicnmf model" in str(exc)


class _Files(dict):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return "<model files>"


@pytest.fixture(scope="module")
def model_bytes(hobbies_model) -> dict[str, bytes]:
    """The hobbies model as topicnmf writes it (deflated) and as np.savez does (stored)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays_of(hobbies_model))
    return _Files(deflated=hobbies_model.read_bytes(), stored=buf.getvalue())


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(kind=st.sampled_from(["deflated", "stored"]), data=st.data())
def test_any_damaged_file_is_a_model_or_one_error(kind, data, model_bytes, tmp_path):
    raw = bytearray(model_bytes[kind])
    how = data.draw(st.sampled_from(["flip", "truncate", "zero a run"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        raw[at] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        del raw[at:]
    else:
        raw[at : at + data.draw(st.integers(1, 64))] = bytes(64)[: len(raw[at : at + 64])]
    p = tmp_path / "damaged.npz"
    p.write_bytes(bytes(raw))
    try:
        TopicModel.load(p)
    except ModelFileError as exc:
        assert "is not a valid topicnmf model" in str(exc) or "cannot read" in str(exc)


def test_finite_but_absurd_weights_raise_no_runtime_warning(hobbies_model, tmp_path):
    import warnings

    from topicnmf import NMFConfig, VectorizerConfig, fit

    out = fit(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(), NMFConfig(n_components=4),
              save_doc_topics=True)  # fmt: skip
    out.model.W = np.full_like(out.model.W, 3e38)  # valid, if absurd: stored weights are free
    p = tmp_path / "absurd.npz"
    out.model.save(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = TopicModel.load(p).doc_topics_frame()
        assert np.allclose(frame[[f"topic_{t}" for t in range(4)]].to_numpy(), 0.25)
        normalize_rows(np.full((2, 3), 3e38, np.float32))


@pytest.mark.parametrize("value", [3e38, 1e6, 0.5])
def test_absurd_topic_weights_are_refused_without_warnings(value, hobbies_model, tmp_path):
    H = arrays_of(hobbies_model)["H"].copy()
    H[1, 3] = value
    p = _mutated(hobbies_model, tmp_path, H=H)
    result = run_cli(["topics", p], tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: {str(p)!r} is not a valid topicnmf model: a row of H does not sum to 1 "
        "(topics are scaled to sum to 1)"
    ]


def test_library_messages_name_parameters_not_options(hobbies_model):
    from topicnmf import NMFConfig, ParameterError, VectorizerConfig, fit

    m = TopicModel.load(hobbies_model)
    with pytest.raises(ParameterError) as exc:
        m.evaluate(top_n=25)
    assert exc.value.param == "top_n" and "--" not in str(exc.value)
    corpus = load_corpus([SAMPLES / "hobbies"])
    for config, n in ((VectorizerConfig(), 100), (VectorizerConfig(max_features=5), 6)):
        with pytest.raises(ParameterError) as exc:
            fit(corpus, config, NMFConfig(n_components=n))
        assert exc.value.param == "n_components" and "--" not in str(exc.value)
    with pytest.raises(ModelFileError) as missing:
        TopicModel.load(hobbies_model.parent / "none.npz")
    assert missing.value.param == "model" and missing.value.path.endswith("none.npz")


# -- same input, same bytes -----------------------------------------------------------------


def run_cli(
    args: list, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """topicnmf in a process of its own, without the caller's SOURCE_DATE_EPOCH."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("SOURCE_DATE_EPOCH", "TOPICNMF_MODEL", "TOPICNMF_DEBUG")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "topicnmf", *map(str, args)],
        cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_two_fits_in_separate_processes_write_the_same_bytes(theme_dir, tmp_path):
    outputs = {}
    for name, env in (("a", None), ("b", None), ("c", {"SOURCE_DATE_EPOCH": "1700000000"}),
                      ("d", {"SOURCE_DATE_EPOCH": "1700000000"})):  # fmt: skip
        model = tmp_path / f"{name}.npz"
        result = run_cli(["fit", theme_dir, "-k", "3", "-m", model, "-o", tmp_path / f"{name}.csv",
                          "--doc-topics-out", tmp_path / f"{name}.d.csv", "--save-doc-topics"],
                         tmp_path, env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs[name] = [p.read_bytes() for p in (model, tmp_path / f"{name}.csv",
                                                  tmp_path / f"{name}.d.csv")]  # fmt: skip
    assert outputs["a"] == outputs["b"]
    assert outputs["c"] == outputs["d"]
    assert outputs["a"][1:] == outputs["c"][1:]  # the date is the only difference
    assert TopicModel.load(tmp_path / "a.npz").created == ""
    assert TopicModel.load(tmp_path / "c.npz").created == "2023-11-14T22:13:20Z"


def test_a_model_stores_no_timings(hobbies_model):
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    assert not [key for key in meta["stats"] if key.startswith("seconds")]
    assert meta["created"] == ""
    stats = TopicModel.load(hobbies_model).stats
    assert stats is not None and stats.seconds_total is None and stats.n_iter > 0


def test_the_fit_itself_reports_its_timings():
    from topicnmf import NMFConfig, VectorizerConfig, fit

    out = fit(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(), NMFConfig(n_components=2))
    stats = out.model.stats
    assert stats.seconds_total >= stats.seconds_nmf >= 0 and stats.seconds_read_vectorize >= 0


def test_timings_stored_by_an_older_topicnmf_are_read(hobbies_model, tmp_path):
    meta = json.loads(str(arrays_of(hobbies_model)["meta"]))
    meta["stats"].update(seconds_read_vectorize=0.5, seconds_nmf=1.25, seconds_total=2.0)
    meta["created"] = "2026-11-23T19:36:46Z"
    m = TopicModel.load(_mutated(hobbies_model, tmp_path, meta=np.array(json.dumps(meta))))
    assert (m.stats.seconds_nmf, m.created) == (1.25, "2026-11-23T19:36:46Z")


@pytest.mark.parametrize("value", ["yesterday", "-5", "1e9", "99999999999999999999"])
def test_a_malformed_source_date_epoch_is_ignored_with_a_warning(value, monkeypatch):
    from topicnmf.errors import TopicNMFWarning
    from topicnmf.model import creation_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.warns(TopicNMFWarning, match="SOURCE_DATE_EPOCH"):
        assert creation_time() == ""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert creation_time() == "1970-01-01T00:00:00Z"


# -- DataFrames ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_with_weights():
    from topicnmf import NMFConfig, VectorizerConfig, fit

    corpus = load_corpus([SAMPLES / "hobbies"])
    return fit(corpus, VectorizerConfig(), NMFConfig(n_components=4), save_doc_topics=True)


def test_topics_frame_is_the_topics_table(fitted_with_weights):
    m = fitted_with_weights.model
    frame = m.topics_frame(top=5)
    assert list(frame.columns) == ["topic", "label", "share", "rank", "term", "weight"]
    assert len(frame) == 4 * 5
    assert frame["rank"].tolist() == [1, 2, 3, 4, 5] * 4
    tops = m.top_terms(5)
    for t in range(4):
        rows = frame[frame["topic"] == t]
        assert rows["term"].tolist() == [term for term, _ in tops[t]]
        assert rows["weight"].tolist() == [w for _, w in tops[t]]  # full precision
        assert set(rows["label"]) == {m.topic_labels()[t]}
        assert set(rows["share"]) == {float(m.topic_share[t])}
    with pytest.raises(ValueError):
        m.topics_frame(top=0)


def test_doc_topics_frame_from_the_stored_weights(fitted_with_weights):
    out = fitted_with_weights
    frame = out.model.doc_topics_frame()
    assert frame.index.name == "id" and frame.index.tolist() == out.doc_ids
    weights = frame[[f"topic_{t}" for t in range(4)]].to_numpy()
    np.testing.assert_array_equal(weights, normalize_rows(out.W))
    raw = out.model.doc_topics_frame(normalize=False)[[f"topic_{t}" for t in range(4)]]
    np.testing.assert_array_equal(raw.to_numpy(), out.W)
    best = out.W.argmax(axis=1)
    assert frame["dominant_topic"].tolist() == best.tolist()
    assert frame["dominant_label"].tolist() == [out.model.topic_labels()[t] for t in best]
    np.testing.assert_array_equal(frame["dominant_weight"], weights[np.arange(len(best)), best])


def test_doc_topics_frame_of_new_texts(fitted_with_weights):
    import pandas as pd

    m = fitted_with_weights.model
    texts = [m.vocabulary[0] + " " + m.vocabulary[1], "zzzz qqqq"]  # the second knows no word
    frame = m.doc_topics_frame(texts, ids=["first", "second"])
    assert frame.index.tolist() == ["first", "second"]
    np.testing.assert_allclose(
        frame.iloc[0, :4].to_numpy(dtype=float), normalize_rows(m.transform(texts[:1]))[0]
    )
    assert frame.loc["second", "dominant_topic"] is pd.NA
    assert frame.loc["second", "dominant_label"] is pd.NA
    assert frame.loc["second", "dominant_weight"] == 0
    assert m.doc_topics_frame(texts).index.tolist() == ["0", "1"]
    empty = m.doc_topics_frame([])
    assert len(empty) == 0 and list(empty.columns) == list(frame.columns)
    with pytest.raises(ValueError, match="1 ids for 2 documents"):
        m.doc_topics_frame(texts, ids=["one"])


def test_doc_topics_frame_needs_stored_weights_or_texts(hobbies_model):
    from topicnmf import ParameterError

    with pytest.raises(ParameterError, match="save_doc_topics") as exc:
        TopicModel.load(hobbies_model).doc_topics_frame()
    assert exc.value.param == "save_doc_topics"


def test_pandas_is_loaded_only_for_a_frame(hobbies_model, tmp_path):
    code = (
        "import sys\nfrom topicnmf.model import TopicModel\n"
        f"m = TopicModel.load({str(hobbies_model)!r})\nm.top_terms(3)\n"
        "assert 'pandas' not in sys.modules\nm.topics_frame()\n"
        "assert 'pandas' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_float64_training_weights_are_exactly_what_a_loaded_model_gives(tmp_path):
    # the stored H is float32: the training weights are computed with that H, not the
    # float64 one the solver returned (which differed by up to 8e-8)
    from topicnmf import NMFConfig, VectorizerConfig, fit

    corpus = load_corpus([SAMPLES / "hobbies"])
    out = fit(corpus, VectorizerConfig(), NMFConfig(n_components=4, dtype="float64"))
    out.model.save(tmp_path / "m.npz")
    again = TopicModel.load(tmp_path / "m.npz").transform([d.text for d in corpus])
    np.testing.assert_array_equal(again, out.W)
