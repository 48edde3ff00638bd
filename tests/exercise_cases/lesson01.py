"""Known-wrong answers for notebook 01's exercise checks (the solutions come from the notebook)."""

from exercise_cases import Case


def _kernel_only(n_inputs, n_units):           # forgets the biases
    return n_inputs * n_units


def _one_bias_per_input(n_inputs, n_units):    # a bias per input instead of per unit
    return n_inputs * n_units + n_inputs


def _one_extra_row_and_column(n_inputs, n_units):
    return (n_inputs + 1) * (n_units + 1)


def _as_text(n_inputs, n_units):                # the right number, as a string
    return str(n_inputs * n_units + n_units)


def _layers(widths):
    return list(zip(widths[:-1], widths[1:]))


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
    "check_dense_param_count": Case(wrong=[_kernel_only, _one_bias_per_input,
                                           _one_extra_row_and_column, _as_text]),
    "check_payload_bytes": Case(wrong=[_biases_packed_too, _rounded_once_for_the_model,
                                       _no_biases, _fractional_bytes, _first_layer_only,
                                       _in_bits, _a_byte_per_weight_below_8_bits]),
}
