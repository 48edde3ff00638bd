"""helpers.pruning: exact magnitude pruning, m:n masks, neuron scoring and removal, masked fine-tuning;
and the checks of notebook 02's exercises."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import keras, pruning

SHAPES = [(7,), (64,), (13, 17), (784, 128), (3, 3, 4, 8)]
GRID = [0.0, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.7, 0.9, 0.95, 0.99, 0.999]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sparsity", GRID)
def test_magnitude_prune_is_exact_and_keeps_survivors(shape, sparsity):
    w = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    pruned = pruning.magnitude_prune(w, sparsity)
    k = round(sparsity * w.size)
    assert pruned.shape == w.shape and pruned.dtype == w.dtype
    assert np.count_nonzero(pruned == 0) == k
    survivors = pruned != 0
    np.testing.assert_array_equal(pruned[survivors], w[survivors])
    if 0 < k < w.size:  # the survivors are the largest magnitudes
        assert np.abs(w[survivors]).min() > np.abs(w[~survivors]).max()


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.73, 0.9])
def test_magnitude_prune_with_heavy_ties_is_deterministic_and_within_one(sparsity):
    w = np.random.default_rng(1).integers(-3, 4, size=(50, 40)).astype(np.float32)  # 7 values
    w[w == 0] = 1.0  # no zeros before pruning, so every zero afterwards was pruned
    first, second = pruning.magnitude_prune(w, sparsity), pruning.magnitude_prune(w.copy(), sparsity)
    np.testing.assert_array_equal(first, second)
    assert abs(np.count_nonzero(first == 0) - sparsity * w.size) <= 1
    # ties are broken by flat index: among weights of the threshold magnitude, the first go first
    theta = np.abs(w[first == 0]).max()
    tied = np.flatnonzero(np.abs(w).ravel() == theta)
    removed = (first == 0).ravel()[tied]
    assert not np.any(np.diff(removed.astype(int)) > 0), "a later tie was removed before an earlier one"


def test_magnitude_prune_uses_magnitude_not_sign():
    w = np.array([-5.0, -0.1, 0.2, 3.0, -4.0, 0.05])
    np.testing.assert_array_equal(pruning.magnitude_prune(w, 0.5), [-5.0, 0, 0, 3.0, -4.0, 0])


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.8, 0.99])
def test_threshold_is_the_quantile_that_keeps_the_rest(sparsity):
    w = np.random.default_rng(2).normal(size=1000)
    theta = pruning.magnitude_threshold(w, sparsity)
    assert np.count_nonzero(np.abs(w) < theta) == round(sparsity * w.size)
    np.testing.assert_array_equal(np.abs(w) >= theta, pruning.magnitude_mask(w, sparsity))


def test_threshold_edges():
    assert pruning.magnitude_threshold([1.0, -2.0], 0.0) == 0.0
    assert pruning.magnitude_threshold([1.0, -2.0], 0.9) == float("inf")  # round(1.8) = 2: all go


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, float("nan")])
def test_sparsity_outside_range_raises(bad):
    with pytest.raises(ValueError, match="sparsity must be in \\[0, 1\\)"):
        pruning.magnitude_prune(np.ones(4), bad)


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_sparsity_of_wrong_type_raises(bad):
    with pytest.raises(TypeError, match="sparsity"):
        pruning.magnitude_prune(np.ones(4), bad)


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), [None, 1.0], np.array([True, False])])
def test_non_numeric_weights_raise(bad):
    with pytest.raises(TypeError, match="weights must be a numeric"):
        pruning.magnitude_prune(bad, 0.5)


def test_empty_or_nan_weights_raise():
    with pytest.raises(ValueError, match="weights must not be empty"):
        pruning.magnitude_prune(np.array([]), 0.5)
    with pytest.raises(ValueError, match="finite"):
        pruning.magnitude_prune(np.array([1.0, np.nan]), 0.5)


def test_global_masks_share_one_threshold():
    rng = np.random.default_rng(3)
    big, small = rng.normal(0, 0.1, size=(100, 50)), rng.normal(0, 1.0, size=(20, 5))
    masks = pruning.global_magnitude_masks([big, small], 0.8)
    removed = sum((~m).sum() for m in masks)
    assert removed == round(0.8 * (big.size + small.size))
    # the small-magnitude layer loses far more than 80%, the large-magnitude one far less
    assert (~masks[0]).mean() > 0.8 > (~masks[1]).mean()
    kept = np.concatenate([np.abs(big[masks[0]]), np.abs(small[masks[1]])])
    gone = np.concatenate([np.abs(big[~masks[0]]), np.abs(small[~masks[1]])])
    assert kept.min() >= gone.max()
    with pytest.raises(TypeError, match="weights_list"):
        pruning.global_magnitude_masks(big, 0.5)


@pytest.mark.parametrize("shape", [(8,), (16, 3), (784, 128), (12, 2, 5)])
@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (4, 8), (0, 2), (3, 3)])
def test_nm_mask_keeps_the_n_largest_of_every_group(shape, n, m):
    if shape[0] % m:
        pytest.skip("axis 0 not divisible by m")
    w = np.random.default_rng(4).normal(size=shape)
    mask = pruning.nm_mask(w, n, m)
    assert mask.shape == w.shape and mask.dtype == bool
    groups_w = np.abs(w).reshape(shape[0] // m, m, -1)
    groups_k = mask.reshape(shape[0] // m, m, -1)
    assert (groups_k.sum(axis=1) == n).all()
    for g in range(groups_w.shape[0]):
        for c in range(groups_w.shape[2]):
            expected = np.sort(np.argsort(-groups_w[g, :, c], kind="stable")[:n])
            np.testing.assert_array_equal(np.flatnonzero(groups_k[g, :, c]), expected)
    assert pruning.satisfies_nm(np.where(mask, w, 0), n, m)


def test_nm_mask_groups_run_along_the_input_axis():
    w = np.array([[1.0, 9.0], [2.0, 8.0], [3.0, 7.0], [4.0, 6.0]])
    np.testing.assert_array_equal(pruning.nm_mask(w, 2, 4),
                                  [[False, True], [False, True], [True, False], [True, False]])
    assert not pruning.satisfies_nm(np.ones((4, 2)), 2, 4)


@pytest.mark.parametrize("n, m, match", [(5, 4, r"n must be an int from 0 to 4 \(nonzeros"),
                                         (2, 0, r"m must be a positive int \(the group size"),
                                         (-1, 4, r"n must be an int from 0 to 4 \(nonzeros"),
                                         (2, 3, "not divisible by m=3")])
def test_nm_mask_rejects_bad_arguments(n, m, match):
    with pytest.raises(ValueError, match=match):
        pruning.nm_mask(np.ones((8, 2)), n, m)
    with pytest.raises(TypeError, match="n must be an int"):
        pruning.nm_mask(np.ones(8), 2.0, 4)


def test_activation_scores():
    acts = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 4.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]])
    np.testing.assert_allclose(pruning.mean_activation(acts), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(pruning.apoz(acts), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(pruning.weight_norm_scores(np.array([[3.0, 0.0], [4.0, -1.0]])), [5.0, 1.0])
    np.testing.assert_allclose(pruning.weight_norm_scores(np.array([[3.0, 0.0], [-4.0, 1.0]]), 1), [7.0, 1.0])
    with pytest.raises(ValueError, match="activations must be 2-D"):
        pruning.apoz(np.ones(3))
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        pruning.weight_norm_scores(np.ones((2, 2)), 3)


def test_units_to_keep():
    np.testing.assert_array_equal(pruning.units_to_keep([0.5, 0.1, 0.9, 0.1], 2), [0, 2])
    np.testing.assert_array_equal(pruning.units_to_keep([1.0, 1.0, 1.0], 1), [1, 2])  # ties: lower first
    for bad in (3, -1, 1.5):
        with pytest.raises(ValueError, match="n_remove"):
            pruning.units_to_keep([1.0, 2.0, 3.0], bad)


def _mlp_with_dead_units(dead):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(4, 4), name="flatten"),
        keras.layers.Dense(12, activation="relu", name="hidden"),
        keras.layers.Dropout(0.2, name="dropout"),
        keras.layers.Dense(3, name="logits"),
    ])
    kernel, bias = model.get_layer("hidden").get_weights()
    kernel[:, dead] = -np.abs(kernel[:, dead]) - 0.1  # negative weights and bias on inputs >= 0:
    bias[dead] = -1.0                                  # these ReLUs never fire,
    alive = np.setdiff1d(np.arange(12), dead)           # the others always do
    kernel[:, alive] = np.abs(kernel[:, alive])
    bias[alive] = 0.1
    model.get_layer("hidden").set_weights([kernel, bias])
    return model


def test_removing_never_active_units_keeps_outputs_and_shrinks_the_model():
    dead = [1, 4, 5, 10]
    model = _mlp_with_dead_units(dead)
    x = np.random.default_rng(5).uniform(0, 1, size=(200, 4, 4)).astype(np.float32)
    acts = pruning.layer_outputs(model, "hidden", x)
    assert acts.shape == (200, 12)
    np.testing.assert_array_equal(pruning.apoz(acts)[dead], 1.0)
    keep = pruning.units_to_keep(-pruning.apoz(acts), len(dead))
    np.testing.assert_array_equal(keep, sorted(set(range(12)) - set(dead)))
    smaller = pruning.remove_dense_units(model, "hidden", keep)
    assert smaller.get_layer("hidden").units == 8
    assert smaller.count_params() == model.count_params() - 4 * (16 + 1) - 4 * 3
    np.testing.assert_allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_removing_active_units_changes_outputs():
    model = _mlp_with_dead_units([1])
    x = np.random.default_rng(6).uniform(0, 1, size=(50, 4, 4)).astype(np.float32)
    acts = pruning.layer_outputs(model, "hidden", x)
    busiest = int(np.argmax(pruning.mean_activation(acts)))
    smaller = pruning.remove_dense_units(model, "hidden", np.setdiff1d(np.arange(12), [busiest]))
    assert not np.allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-4)


def test_remove_dense_units_rejects_bad_input():
    model = _mlp_with_dead_units([0])
    with pytest.raises(ValueError, match="not in the model"):
        pruning.remove_dense_units(model, "nope", [0])
    with pytest.raises(ValueError, match="must be followed by a Dense"):
        pruning.remove_dense_units(model, "logits", [0])
    with pytest.raises(ValueError, match="must be Dense"):
        pruning.remove_dense_units(model, "flatten", [0])
    for keep in ([], [0, 0], [12], [0.5]):
        with pytest.raises(ValueError, match="keep must be distinct unit indices"):
            pruning.remove_dense_units(model, "hidden", keep)
    with pytest.raises(TypeError, match="Sequential"):
        pruning.remove_dense_units(object(), "hidden", [0])


def test_keep_masks_callback_keeps_pruned_weights_at_zero():
    model = _mlp_with_dead_units([])
    kernel = model.get_layer("hidden").get_weights()[0]
    masks = {"hidden": pruning.magnitude_mask(kernel, 0.75)}
    pruning.apply_masks(model, masks)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(7)
    x, y = rng.uniform(size=(256, 4, 4)).astype(np.float32), rng.integers(0, 3, 256)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[pruning.KeepMasks(masks)])
    trained = model.get_layer("hidden").get_weights()[0]
    assert np.all(trained[~masks["hidden"]] == 0)
    assert not np.allclose(trained[masks["hidden"]], kernel[masks["hidden"]])  # survivors learned
    with pytest.raises(ValueError, match="has shape"):
        pruning.apply_masks(model, {"hidden": np.ones((3, 3), bool)})


# --- channel (filter) pruning of convolutions -------------------------------------------------

def _cnn(zero_filters=(), conv_then_conv: bool = True, batch_norm: bool = False) -> keras.Model:
    """Conv(6) -> [BN] -> pool -> Conv(5) -> Flatten -> Dense(3), with random weights; the filters
    in `zero_filters` of the first conv are all zero (kernel and bias)."""
    layers = [keras.layers.Conv2D(6, 3, activation="relu", input_shape=(10, 10, 2), name="conv1")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization(name="bn"))
    layers.append(keras.layers.MaxPooling2D(2, name="pool"))
    if conv_then_conv:
        layers.append(keras.layers.Conv2D(5, 2, activation="relu", name="conv2"))
    layers += [keras.layers.Flatten(name="flatten"), keras.layers.Dense(3, name="logits")]
    model = keras.Sequential(layers)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    kernel, bias = model.get_layer("conv1").get_weights()
    kernel[..., list(zero_filters)] = 0.0
    bias[list(zero_filters)] = 0.0
    model.get_layer("conv1").set_weights([kernel, bias])
    return model


@pytest.mark.parametrize("conv_then_conv", [True, False])
def test_removing_all_zero_filters_leaves_the_outputs_unchanged(conv_then_conv):
    zero = [1, 4]
    model = _cnn(zero, conv_then_conv)
    before = [w.copy() for w in model.get_weights()]
    keep = [0, 2, 3, 5]
    smaller = pruning.remove_conv_filters(model, "conv1", keep)
    x = np.random.default_rng(1).normal(size=(16, 10, 10, 2)).astype(np.float32)
    np.testing.assert_allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert smaller.get_layer("conv1").filters == 4
    for old, new in zip(before, model.get_weights(), strict=True):  # the original is untouched
        np.testing.assert_array_equal(old, new)
    assert model.get_layer("conv1").filters == 6


def test_removing_filters_gives_exactly_the_expected_parameter_count():
    model = _cnn((), conv_then_conv=True)  # conv1 3x3x2->6, pool 8->4, conv2 2x2x6->5 (3x3x5=45), dense 45->3
    assert model.count_params() == (3 * 3 * 2 * 6 + 6) + (2 * 2 * 6 * 5 + 5) + (45 * 3 + 3)
    smaller = pruning.remove_conv_filters(model, "conv1", [0, 5])
    assert smaller.count_params() == (3 * 3 * 2 * 2 + 2) + (2 * 2 * 2 * 5 + 5) + (45 * 3 + 3)
    flat = _cnn((), conv_then_conv=False)  # conv1 then pool 4x4x6 = 96 flattened inputs
    smaller = pruning.remove_conv_filters(flat, "conv1", [0, 2, 3])
    assert smaller.count_params() == (3 * 3 * 2 * 3 + 3) + (4 * 4 * 3 * 3 + 3)
    smaller = pruning.remove_conv_filters(model, "conv2", [1, 2, 4])  # conv -> Flatten -> Dense too
    assert smaller.count_params() == (3 * 3 * 2 * 6 + 6) + (2 * 2 * 6 * 3 + 3) + (3 * 3 * 3 * 3 + 3)


def test_removing_nonzero_filters_changes_the_output_and_slices_the_right_weights():
    model = _cnn((), conv_then_conv=False, batch_norm=True)
    smaller = pruning.remove_conv_filters(model, "conv1", [1, 3])
    kernel = model.get_layer("conv1").get_weights()[0]
    np.testing.assert_array_equal(smaller.get_layer("conv1").get_weights()[0], kernel[..., [1, 3]])
    gamma = model.get_layer("bn").get_weights()[0]
    np.testing.assert_array_equal(smaller.get_layer("bn").get_weights()[0], gamma[[1, 3]])
    dense = model.get_layer("logits").get_weights()[0]  # rows of the flattened (4, 4, 6) map: channel = row % 6
    np.testing.assert_array_equal(smaller.get_layer("logits").get_weights()[0],
                                  dense[np.isin(np.arange(96) % 6, [1, 3])])
    x = np.random.default_rng(2).normal(size=(4, 10, 10, 2)).astype(np.float32)
    assert not np.allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-3)


def test_remove_conv_filters_rejects_bad_input():
    model = _cnn(())
    with pytest.raises(ValueError, match="not in the model"):
        pruning.remove_conv_filters(model, "nope", [0])
    with pytest.raises(TypeError, match="must be a Conv2D layer, got Dense"):
        pruning.remove_conv_filters(model, "logits", [0])
    with pytest.raises(TypeError, match="must be a Conv2D layer, got MaxPooling2D"):
        pruning.remove_conv_filters(model, "pool", [0])
    with pytest.raises(ValueError, match="non-empty"):
        pruning.remove_conv_filters(model, "conv1", [])
    with pytest.raises(ValueError, match=r"in \[0, 5\]"):
        pruning.remove_conv_filters(model, "conv1", [0, 6])
    with pytest.raises(ValueError, match=r"in \[0, 5\]"):
        pruning.remove_conv_filters(model, "conv1", [-1])
    with pytest.raises(ValueError, match="must not repeat"):
        pruning.remove_conv_filters(model, "conv1", [0, 0])
    with pytest.raises(ValueError, match="non-empty"):
        pruning.remove_conv_filters(model, "conv1", [0.5])
    with pytest.raises(TypeError, match="model must be a tf_keras Model"):
        pruning.remove_conv_filters("model", "conv1", [0])
    last = keras.Sequential([keras.layers.Conv2D(4, 3, input_shape=(6, 6, 1), name="conv")])
    with pytest.raises(ValueError, match="must be followed by a Conv2D or a Dense"):
        pruning.remove_conv_filters(last, "conv", [0])


def test_filter_l1_norms_scores_each_filter():
    kernel = np.zeros((3, 3, 2, 4), np.float32)
    kernel[..., 2] = -1.0
    kernel[0, 0, 0, 1] = 0.5
    np.testing.assert_allclose(pruning.filter_l1_norms(kernel), [0.0, 0.5, 18.0, 0.0])
    with pytest.raises(ValueError, match="4-D"):
        pruning.filter_l1_norms(np.ones((3, 3)))


# --- sparse formats and per-layer allocation (notebook 02, Exercises 2.4 and 2.5) ----------------

@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (784, 128), (10, 1)])
@pytest.mark.parametrize("value_bytes,index_bytes", [(4, 4), (1, 2), (2, 1)])
def test_sparse_format_bytes_match_scipy_and_packbits(shape, value_bytes, index_bytes):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(7)
    w = rng.normal(size=shape) * (rng.random(shape) < 0.3)
    csr = scipy_sparse.csr_matrix(w)
    assert pruning.sparse_format_bytes(w, "csr", value_bytes, index_bytes) == \
        (csr.indptr.size + csr.indices.size) * index_bytes + csr.data.size * value_bytes
    assert pruning.sparse_format_bytes(w, "bitmask", value_bytes, index_bytes) == \
        np.packbits(w.ravel() != 0).size + np.count_nonzero(w) * value_bytes


@pytest.mark.parametrize("bad,match", [(("coo",), "fmt"), (("csr", 0), "value_bytes"),
                                       (("csr", 4, 1.5), "index_bytes")])
def test_sparse_format_bytes_rejects_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        pruning.sparse_format_bytes(np.ones((2, 2)), *bad)


def _scan():
    grid = [0.0, 0.5, 0.8, 0.9, 0.99]
    return ({"a": (grid, [0, .001, .004, .01, .1]), "b": (grid, [0, .01, .03, .06, .3]),
             "c": (grid, [0, .02, .06, .12, .5])}, {"a": 50_000, "b": 10_000, "c": 1_000})


@pytest.mark.parametrize("target", [0.0, 0.3, 0.6, 0.8])
def test_allocate_sparsities_is_exact_within_limits_and_beats_uniform(target):
    scan, sizes = _scan()
    chosen = pruning.allocate_sparsities(scan, sizes, target, 0.05)
    assert abs(sum(chosen[k] * sizes[k] for k in sizes) - target * sum(sizes.values())) <= 1e-6
    assert all(np.interp(chosen[k], *scan[k]) <= 0.05 + 1e-12 for k in sizes)
    assert pruning.predicted_drop(scan, chosen) <= pruning.predicted_drop(scan, dict.fromkeys(sizes, target)) + 1e-12


def test_allocate_sparsities_takes_the_cheapest_weights_first():
    scan, sizes = _scan()
    chosen = pruning.allocate_sparsities(scan, sizes, 0.5, 0.05)
    assert chosen["a"] > chosen["b"] >= chosen["c"] == 0.0


def test_allocate_sparsities_raises_when_the_limits_cannot_reach_the_target():
    scan, sizes = _scan()
    with pytest.raises(ValueError, match="short"):
        pruning.allocate_sparsities(scan, sizes, 0.9, 0.005)
    with pytest.raises(ValueError, match="same layers"):
        pruning.allocate_sparsities(scan, {"a": 1}, 0.5, 0.05)
    with pytest.raises(ValueError, match="sparsity"):
        pruning.allocate_sparsities(scan, sizes, 1.5, 0.05)
