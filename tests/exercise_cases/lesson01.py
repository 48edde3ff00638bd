"""Known-wrong answers for notebook 01's exercise checks (the solutions come from the notebook)."""

from exercise_cases import Case


def _outputs(size, kernel, stride, padding):      # output positions along one axis (right)
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def _cost(input_shape, filters, kernel_size, strides, padding, use_bias, *, positions=None,
          bias=None):
    """A Conv2D's (parameters, multiply-adds), with one piece replaceable by a mistake."""
    (h, w, c), (kh, kw), (sh, sw) = input_shape, kernel_size, strides
    weights = kh * kw * c * filters
    n = positions if positions is not None else \
        _outputs(h, kh, sh, padding) * _outputs(w, kw, sw, padding)
    return weights + (filters if use_bias else 0) if bias is None else weights + bias, n * weights


def _forgets_the_bias(input_shape, filters, kernel_size, strides, padding, use_bias):
    return _cost(input_shape, filters, kernel_size, strides, padding, use_bias, bias=0)


def _bias_always(input_shape, filters, kernel_size, strides, padding, use_bias):  # ignores use_bias
    return _cost(input_shape, filters, kernel_size, strides, padding, use_bias, bias=filters)


def _a_bias_per_input_channel(input_shape, filters, kernel_size, strides, padding, use_bias):
    bias = input_shape[2] if use_bias else 0
    return _cost(input_shape, filters, kernel_size, strides, padding, use_bias, bias=bias)


def _input_size_not_output_size(input_shape, filters, kernel_size, strides, padding, use_bias):
    positions = input_shape[0] * input_shape[1]
    return _cost(input_shape, filters, kernel_size, strides, padding, use_bias, positions=positions)


def _every_padding_as_same(input_shape, filters, kernel_size, strides, padding, use_bias):
    return _cost(input_shape, filters, kernel_size, strides, "same", use_bias)


def _every_padding_as_valid(input_shape, filters, kernel_size, strides, padding, use_bias):
    return _cost(input_shape, filters, kernel_size, strides, "valid", use_bias)


def _stride_ignored(input_shape, filters, kernel_size, strides, padding, use_bias):
    return _cost(input_shape, filters, kernel_size, (1, 1), padding, use_bias)


def _rounds_down(input_shape, filters, kernel_size, strides, padding, use_bias):  # floor, no +1
    (h, w, _), (kh, kw), (sh, sw) = input_shape, kernel_size, strides
    if padding == "same":
        positions = (h // sh) * (w // sw)
    else:
        positions = ((h - kh) // sh) * ((w - kw) // sw)
    return _cost(input_shape, filters, kernel_size, strides, padding, use_bias, positions=positions)


def _bias_counted_as_multiply_adds(input_shape, filters, kernel_size, strides, padding, use_bias):
    params, macs = _cost(input_shape, filters, kernel_size, strides, padding, use_bias)
    (h, w, _), (kh, kw), (sh, sw) = input_shape, kernel_size, strides
    extra = _outputs(h, kh, sh, padding) * _outputs(w, kw, sw, padding) * filters if use_bias else 0
    return params, macs + extra


def _flops_not_multiply_adds(input_shape, filters, kernel_size, strides, padding, use_bias):
    params, macs = _cost(input_shape, filters, kernel_size, strides, padding, use_bias)
    return params, 2 * macs


def _weights_stored_per_position(input_shape, filters, kernel_size, strides, padding, use_bias):
    params, macs = _cost(input_shape, filters, kernel_size, strides, padding, use_bias)
    (h, w, _), (kh, kw), (sh, sw) = input_shape, kernel_size, strides
    return params * _outputs(h, kh, sh, padding) * _outputs(w, kw, sw, padding), macs


def _input_channels_forgotten(input_shape, filters, kernel_size, strides, padding, use_bias):
    return _cost((*input_shape[:2], 1), filters, kernel_size, strides, padding, use_bias)


def _swapped(input_shape, filters, kernel_size, strides, padding, use_bias):
    params, macs = _cost(input_shape, filters, kernel_size, strides, padding, use_bias)
    return macs, params


def _layers(widths):
    return list(zip(widths[:-1], widths[1:], strict=True))


def _biases_packed_too(widths, bits):           # quantizes the biases with the kernels
    return sum(-(-(n_in * n_out + n_out) * bits // 8) for n_in, n_out in _layers(widths))


def _no_biases(widths, bits):                   # kernels only
    return sum(-(-n_in * n_out * bits // 8) for n_in, n_out in _layers(widths))


def _rounded_once_for_the_model(widths, bits):  # all kernels as one tensor
    kernel_bits = sum(n_in * n_out * bits for n_in, n_out in _layers(widths))
    return -(-kernel_bits // 8) + 4 * sum(n_out for _, n_out in _layers(widths))


def _fractional_bytes(widths, bits):            # no rounding up at all
    return sum(n_in * n_out * bits / 8 + 4 * n_out for n_in, n_out in _layers(widths))


def _first_layer_only(widths, bits):
    n_in, n_out = widths[0], widths[1]
    return -(-n_in * n_out * bits // 8) + 4 * n_out


def _in_bits(widths, bits):                     # forgets to divide by 8
    return sum(n_in * n_out * bits + 32 * n_out for n_in, n_out in _layers(widths))


def _a_byte_per_weight_below_8_bits(widths, bits):  # does not pack sub-byte weights
    per_weight = -(-bits // 8)
    return sum(n_in * n_out * per_weight + 4 * n_out for n_in, n_out in _layers(widths))


CASES = {
    "check_conv2d_cost": Case(wrong=[_forgets_the_bias, _bias_always, _a_bias_per_input_channel,
                                     _input_size_not_output_size, _every_padding_as_same,
                                     _every_padding_as_valid, _stride_ignored, _rounds_down,
                                     _bias_counted_as_multiply_adds, _flops_not_multiply_adds,
                                     _weights_stored_per_position, _input_channels_forgotten,
                                     _swapped]),
    "check_payload_bytes": Case(wrong=[_biases_packed_too, _rounded_once_for_the_model,
                                       _no_biases, _fractional_bytes, _first_layer_only,
                                       _in_bits, _a_byte_per_weight_below_8_bits]),
}
