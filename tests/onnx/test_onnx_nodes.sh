#!/bin/bash
# ONNX's own backend node tests (Debian's libonnx-testdata, ONNX 1.12)
# through libqnpu: the 17 quantized-operator tests byte for byte on the
# given backend; with "float", the float tests of the operators qnpu
# imports within 1e-5 (docs/onnx.md lists them and the ones left out).
# On an NPU backend every operator the NPU cannot take exactly says why
# (the tests' QLinearConv has UINT8 weights of zero point 255, the
# QLinearMatMuls UINT8 B of non-zero zero points or a 3-D A): all 17 must
# still be exact through the CPU fallback.
# Usage: test_onnx_nodes.sh NODE_TEST_BIN BACKEND [float]
set -u
bin=$1 backend=$2 kind=${3:-quant}
D=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data/node}
if [ ! -d "$D" ]; then
	echo "SKIP: libonnx-testdata not installed ($D)"
	exit 77
fi
QUANT="basic_convinteger convinteger_with_padding convinteger_without_padding
dequantizelinear dequantizelinear_axis dynamicquantizelinear
dynamicquantizelinear_expanded dynamicquantizelinear_max_adjusted
dynamicquantizelinear_max_adjusted_expanded dynamicquantizelinear_min_adjusted
dynamicquantizelinear_min_adjusted_expanded matmulinteger qlinearconv
qlinearmatmul_2D qlinearmatmul_3D quantizelinear quantizelinear_axis"
FLOAT="add add_bcast averagepool_2d_default averagepool_2d_pads
averagepool_2d_pads_count_include_pad averagepool_2d_precomputed_pads
averagepool_2d_precomputed_pads_count_include_pad
averagepool_2d_precomputed_same_upper averagepool_2d_precomputed_strides
averagepool_2d_same_lower averagepool_2d_same_upper averagepool_2d_strides
clip clip_default_inbounds clip_default_max clip_default_min clip_example
clip_inbounds clip_outbounds clip_splitbounds conv_with_autopad_same
conv_with_strides_and_asymmetric_padding conv_with_strides_no_padding
conv_with_strides_padding div div_bcast div_example flatten_axis0
flatten_axis1 flatten_axis2 flatten_axis3 flatten_default_axis
flatten_negative_axis1 flatten_negative_axis2 flatten_negative_axis3
flatten_negative_axis4 gemm_all_attributes gemm_alpha gemm_beta
gemm_default_matrix_bias gemm_default_no_bias gemm_default_scalar_bias
gemm_default_single_elem_vector_bias gemm_default_vector_bias
gemm_default_zero_bias gemm_transposeA gemm_transposeB matmul_2d matmul_3d
matmul_4d max_float32 max_two_inputs maxpool_2d_default maxpool_2d_dilations
maxpool_2d_pads maxpool_2d_precomputed_pads maxpool_2d_precomputed_same_upper
maxpool_2d_precomputed_strides maxpool_2d_same_lower maxpool_2d_same_upper
maxpool_2d_strides maxpool_2d_uint8 min_float32 min_two_inputs mul mul_bcast
mul_example relu reshape_extended_dims reshape_negative_dim
reshape_negative_extended_dims reshape_one_dim reshape_reduced_dims
reshape_reordered_all_dims reshape_reordered_last_dims
reshape_zero_and_negative_dim reshape_zero_dim round softmax_axis_2
softmax_default_axis softmax_example softmax_large_number
softmax_negative_axis sub sub_bcast sub_example"
if [ "$kind" = float ]; then
	exec "$bin" --tol=1e-5 "$backend" $(for t in $FLOAT; do echo "$D/test_$t"; done)
fi
exec "$bin" "$backend" $(for t in $QUANT; do echo "$D/test_$t"; done)
