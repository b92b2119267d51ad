/* SPDX-License-Identifier: MIT */
/**
 * DOC: libqnpu public API
 *
 * Run TensorFlow Lite INT8 models on a qnpu device. Every function that can
 * fail returns 0 (or a non-negative count) on success and a negative errno
 * on failure; qnpu_last_error() then gives a one-line readable reason.
 *
 * Objects come in create/destroy pairs: qnpu_device_open() and
 * qnpu_device_close(), qnpu_model_load_*() and qnpu_model_free(). A model
 * belongs to the device it was loaded on; free every model before closing
 * its device. The caller keeps ownership of every buffer it passes in:
 * libqnpu copies what it needs.
 */
#ifndef QNPU_H
#define QNPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QNPU_MAX_RANK 6
#define QNPU_MAX_OP_IO 16

struct qnpu_device;
struct qnpu_model;

enum qnpu_dtype {
	QNPU_DTYPE_FLOAT32 = 0,
	QNPU_DTYPE_INT32 = 2,
	QNPU_DTYPE_UINT8 = 3,
	QNPU_DTYPE_INT64 = 4,
	QNPU_DTYPE_INT16 = 7,
	QNPU_DTYPE_INT8 = 9,
};

/* Where an operator runs. */
enum qnpu_target {
	QNPU_TARGET_CPU = 0,
	QNPU_TARGET_NPU = 1,
};

/**
 * struct qnpu_tensor_info - a model input, output or operator result.
 * @name: tensor name from the model; valid while the model lives
 * @index: tensor index in the model's subgraph
 * @dtype: element type
 * @rank: number of dimensions
 * @shape: dimensions, outermost first
 * @bytes: size of the tensor in bytes
 * @scale: quantization scale (first channel if per-channel), 0 if none
 * @zero_point: quantization zero point (first channel), 0 if none
 * @num_scales: 0 (not quantized), 1 (per tensor) or channels (per channel)
 * @quant_axis: the channel axis when @num_scales > 1
 * @is_constant: holds constant data (weights, biases)
 */
struct qnpu_tensor_info {
	const char *name;
	int index;
	enum qnpu_dtype dtype;
	int rank;
	int32_t shape[QNPU_MAX_RANK];
	size_t bytes;
	float scale;
	int32_t zero_point;
	int num_scales;
	int quant_axis;
	int is_constant;
};

/**
 * struct qnpu_op_info - one operator of a loaded model.
 * @index: operator index in the model
 * @name: TFLite builtin name ("CONV_2D"), valid while the model lives
 * @target: where it runs on the model's device
 * @macs: multiply-accumulates of one inference
 * @output: its first output tensor
 * @num_inputs: number of inputs (at most QNPU_MAX_OP_IO listed)
 * @inputs: input tensor indices, -1 for an absent optional input
 * @num_outputs: number of outputs (at most QNPU_MAX_OP_IO listed)
 * @outputs: output tensor indices
 * @fused_into: for an ADD the NPU computes in the epilogue of the
 *	convolution producing one of its operands, or a 1x1 convolution the
 *	NPU computes in the job of a convolution of the same input, that
 *	operator's index + 1 (it then takes no time of its own); else 0
 */
struct qnpu_op_info {
	int index;
	const char *name;
	enum qnpu_target target;
	uint64_t macs;
	struct qnpu_tensor_info output;
	int num_inputs;
	int inputs[QNPU_MAX_OP_IO];
	int num_outputs;
	int outputs[QNPU_MAX_OP_IO];
	int fused_into;
};

/**
 * struct qnpu_device_info - what a device is.
 * @name: backend name ("cpu", "sim", "drm")
 * @is_npu: 1 when operators can run on an NPU
 * @rows: MAC array rows (0 for the CPU)
 * @cols: MAC array columns
 * @abuf_bytes: activation SRAM
 * @wbuf_bytes: weight SRAM
 * @pbuf_bytes: parameter SRAM
 * @obuf_bytes: output SRAM
 */
struct qnpu_device_info {
	const char *name;
	int is_npu;
	uint32_t rows, cols;
	uint32_t abuf_bytes, wbuf_bytes, pbuf_bytes, obuf_bytes;
};

/**
 * struct qnpu_op_stats - one operator in the last qnpu_model_run().
 * @cycles: device cycles of its jobs (0 on the CPU)
 * @busy_cycles: cycles in which any device engine worked
 * @hw_macs: MACs the array performed (padding taps included)
 * @dma_in: bytes the device read
 * @dma_out: bytes the device wrote
 * @stall_load: cycles the load engine waited for a token
 * @stall_compute: cycles the compute engine waited for a token
 * @stall_store: cycles the store engine waited for a token
 * @stall_ppu: cycles compute waited for the post-processing unit
 * @stall_dispatch: cycles the command dispatcher stalled
 * @jobs: device jobs submitted
 * @host_ns: host wall time of the operator
 * @note: why an operator the NPU supports ran on the CPU, else ""
 * @est_cycles: the compiler's cost-model prediction of @cycles for the
 *              device's configuration (NPU operators; known before any run)
 * @est_dma_in: the bytes its DMA will read, as compiled
 * @est_dma_out: the bytes its DMA will write
 */
struct qnpu_op_stats {
	uint64_t cycles, busy_cycles, hw_macs, dma_in, dma_out;
	uint64_t stall_load, stall_compute, stall_store, stall_ppu;
	uint64_t stall_dispatch;
	uint32_t jobs;
	uint64_t host_ns;
	const char *note;
	uint64_t est_cycles, est_dma_in, est_dma_out;
};

/* One line describing the last error of this thread; never NULL. */
const char *qnpu_last_error(void);

/* Name of a dtype, e.g. "INT8". */
const char *qnpu_dtype_name(enum qnpu_dtype dtype);

/**
 * qnpu_device_open() - open a device.
 * @name: "cpu"; "sim" (the Verilated NPU in this process; "sim:8x8",
 *        "sim:16x16", "sim:32x32" or "sim:FILE.dtb" pick its
 *        configuration); or NULL / "auto" for the best one present
 * @out: the device, to be closed with qnpu_device_close()
 */
int qnpu_device_open(const char *name, struct qnpu_device **out);
void qnpu_device_close(struct qnpu_device *dev);
/* The backend actually opened ("cpu", ...). */
const char *qnpu_device_name(const struct qnpu_device *dev);
int qnpu_device_query(const struct qnpu_device *dev,
		      struct qnpu_device_info *info);
/**
 * qnpu_device_set_threads() - threads for the operators run on the CPU.
 * @threads: 1 or more, or 0 for one per online core (the default)
 *
 * The CPU kernels split each layer's outputs over a pool of this many
 * threads (the caller is one of them); outputs are identical whatever the
 * count. Not while a model of @dev runs. -EINVAL outside 0..1024.
 */
int qnpu_device_set_threads(struct qnpu_device *dev, int threads);

/**
 * qnpu_model_load_file() - import and prepare a .tflite model.
 *
 * Malformed files, unsupported operators and float models fail here with
 * -EINVAL / -ENOTSUP and a message naming what is wrong.
 */
int qnpu_model_load_file(struct qnpu_device *dev, const char *path,
			 struct qnpu_model **out);
/* As qnpu_model_load_file(), from memory; @data is copied. */
int qnpu_model_load_memory(struct qnpu_device *dev, const void *data,
			   size_t size, struct qnpu_model **out);
void qnpu_model_free(struct qnpu_model *model);

/**
 * qnpu_model_save() - write a model compiled for an NPU to @path.
 *
 * The file holds the .tflite model, the target it was compiled for and
 * every NPU operator's commands and constants. qnpu_model_load_file()
 * takes it on a device with the same parameters (else -EINVAL naming both)
 * without compiling again. A model loaded on "target:FILE.dtb" is compiled
 * offline for that device tree.
 */
int qnpu_model_save(const struct qnpu_model *model, const char *path);

/**
 * qnpu_model_batch() - a copy of @model that runs @batch samples at once.
 * @model: a model loaded from a .tflite or compiled file; it is unchanged
 *         and stays usable
 * @batch: samples per qnpu_model_run(), 1 to 256
 * @out: the batched model on @model's device, compiled once for the batch,
 *       to be freed with qnpu_model_free() (before or after @model)
 *
 * Every activation's leading dimension of 1 becomes @batch: inputs and
 * outputs take and give @batch samples back to back (input info says
 * [@batch, ...], and its bytes are @batch times one sample's). Each
 * sample's outputs are byte-identical to a run of that sample alone. On an
 * NPU a FULLY_CONNECTED layer puts the samples on the MAC array's rows (a
 * matrix-matrix product instead of a matrix-vector one) and convolutions
 * run image by image in one job.
 *
 * -EINVAL for @batch out of range, a model batched already, or an
 * activation whose leading dimension is not 1 (named); -ENOTSUP for an
 * operator that may mix the samples of a batch (named) or an ONNX model.
 * A batched model cannot be saved (qnpu_model_save()).
 */
int qnpu_model_batch(const struct qnpu_model *model, int batch,
		     struct qnpu_model **out);
/* Samples per run: 1 unless made by qnpu_model_batch(). */
int qnpu_model_batch_size(const struct qnpu_model *model);

int qnpu_model_num_inputs(const struct qnpu_model *model);
int qnpu_model_num_outputs(const struct qnpu_model *model);
int qnpu_model_input_info(const struct qnpu_model *model, int i,
			  struct qnpu_tensor_info *info);
int qnpu_model_output_info(const struct qnpu_model *model, int i,
			   struct qnpu_tensor_info *info);

/* @size must equal the input's bytes. */
int qnpu_model_set_input(struct qnpu_model *model, int i, const void *data,
			 size_t size);
int qnpu_model_run(struct qnpu_model *model);
/* @size must equal the output's bytes. */
int qnpu_model_get_output(const struct qnpu_model *model, int i, void *data,
			  size_t size);

int qnpu_model_num_tensors(const struct qnpu_model *model);
int qnpu_model_tensor_info(const struct qnpu_model *model, int index,
			   struct qnpu_tensor_info *info);
int qnpu_model_num_ops(const struct qnpu_model *model);
int qnpu_model_op_info(const struct qnpu_model *model, int i,
		       struct qnpu_op_info *info);

/* Measurements of operator @i in the last run. */
int qnpu_model_op_stats(const struct qnpu_model *model, int i,
			struct qnpu_op_stats *stats);

/**
 * typedef qnpu_layer_cb - called by qnpu_model_run() after each operator.
 * @op: the operator that just ran
 * @data: its first output tensor's bytes (@op->output.bytes long), valid
 *        only during the call
 * @user: the pointer given to qnpu_model_set_layer_callback()
 *
 * Return 0 to continue, or a negative errno to stop the run with it.
 */
typedef int (*qnpu_layer_cb)(const struct qnpu_op_info *op, const void *data,
			     void *user);
/* NULL @cb removes the callback. */
int qnpu_model_set_layer_callback(struct qnpu_model *model, qnpu_layer_cb cb,
				  void *user);

/**
 * DOC: post-training quantization
 *
 * From a float32 .tflite to an int8 model: create a calibrator on the
 * float model, give it sample inputs, then quantize with a calibration
 * method. The calibrator keeps every activation's histogram, so one
 * calibration serves every method. qnpu_compare() is the debugger: a float
 * model and an int8 model (ours or the TFLite converter's) on the same
 * inputs, layer by layer.
 */
struct qnpu_calib;

enum qnpu_calibration {
	QNPU_CALIB_MINMAX = 0,		/* everything seen */
	QNPU_CALIB_PERCENTILE = 1,	/* both tails cut at (100 - P)% */
	QNPU_CALIB_MSE = 2,		/* least expected squared error */
	QNPU_CALIB_ENTROPY = 3,		/* TensorRT's KL-divergence search */
};

/**
 * struct qnpu_quant_options - how to quantize.
 * @method: how each activation's range is picked from its histogram
 * @percentile: for QNPU_CALIB_PERCENTILE, in (50, 100]; 0 means 99.99
 * @per_tensor: one weight scale per tensor also for convolutions
 * @float_io: keep float32 inputs and outputs (QUANTIZE / DEQUANTIZE
 *            operators at the edges); int8 I/O otherwise
 * @bias_correction: fold the mean error of the rounded weights (measured
 *                   on the calibration inputs' channel means) into the
 *                   int32 biases; off, biases are TFLite's converter's
 */
struct qnpu_quant_options {
	enum qnpu_calibration method;
	double percentile;
	int per_tensor;
	int float_io;
	int bias_correction;
};

/*
 * typedef qnpu_progress_cb - progress of a long calibration: @done of
 * @total samples of @pass (1: ranges, 2: histograms).
 */
typedef void (*qnpu_progress_cb)(int pass, int done, int total, void *user);

/**
 * qnpu_calib_create() - a calibrator for a float32 .tflite model.
 *
 * Fails with -ENOTSUP naming the first operator (and its index) that qnpu
 * cannot quantize, and -EINVAL for a model that is already int8.
 * Free with qnpu_calib_free().
 */
int qnpu_calib_create(const char *float_path, struct qnpu_calib **out);
/* As qnpu_calib_create(), from memory; @data is copied. */
int qnpu_calib_create_memory(const void *data, size_t size,
			     struct qnpu_calib **out);
void qnpu_calib_free(struct qnpu_calib *c);
/* Floats of one sample: every model input's elements, inputs in order. */
size_t qnpu_calib_sample_floats(const struct qnpu_calib *c);
/**
 * qnpu_calib_add_samples() - add @size bytes of float32 samples.
 *
 * @size must be a whole number of samples (-EINVAL naming both sizes);
 * NaN or Inf anywhere is refused (-EINVAL naming sample and element).
 * Returns the number of samples added. The data is copied.
 */
int qnpu_calib_add_samples(struct qnpu_calib *c, const float *data,
			   size_t size);
int qnpu_calib_set_progress(struct qnpu_calib *c, qnpu_progress_cb cb,
			    void *user);
/*
 * Run the float model over the samples for every activation's min/max
 * (done by the first quantize when not called; the histogram methods add
 * a second pass the first time one is asked for). -EINVAL without
 * samples. Adding samples later starts over.
 */
int qnpu_calib_run(struct qnpu_calib *c);
/**
 * qnpu_calib_range() - the range @opt's method picks for tensor @index of
 * the float model (before it is widened to hold 0). -ENOENT for a tensor
 * that is not a calibrated activation.
 */
int qnpu_calib_range(struct qnpu_calib *c, int index,
		     const struct qnpu_quant_options *opt, float *min,
		     float *max);

/**
 * qnpu_quantize_model() - the int8 model, loaded on @dev.
 * @opt: NULL for the defaults (min/max, per-channel, int8 I/O)
 *
 * Tensors keep the float model's names (int8 I/O tensors of a float_io
 * model get "_int8" appended). Free with qnpu_model_free().
 */
int qnpu_quantize_model(struct qnpu_calib *c,
			const struct qnpu_quant_options *opt,
			struct qnpu_device *dev, struct qnpu_model **out);

/**
 * qnpu_quantize_tflite() - the int8 model as a .tflite flatbuffer that
 * TensorFlow Lite's runtime loads; *@buf is malloc()ed, free() it.
 */
int qnpu_quantize_tflite(struct qnpu_calib *c,
			 const struct qnpu_quant_options *opt, void **buf,
			 size_t *len);

/**
 * qnpu_quantize_onnx() - As qnpu_quantize_tflite() for a calibration made
 * from a float ONNX model: a QDQ ONNX model (QuantizeLinear /
 * DequantizeLinear around each operator, UINT8 activations, INT8 weights
 * per output channel or, with opt->per_tensor, per tensor; INT32 biases)
 * that ONNX Runtime and libqnpu load. *@buf is malloc()ed; the caller
 * frees it. Only the min/max, percentile, MSE and entropy ranges apply:
 * bias correction and float I/O are TFLite-only.
 */
int qnpu_quantize_onnx(struct qnpu_calib *c,
		       const struct qnpu_quant_options *opt, void **buf,
		       size_t *len);

/**
 * struct qnpu_compare_layer - one int8 tensor against its float twin.
 * @op_index: the int8 model's operator that writes it
 * @op_name: its builtin name
 * @name: the int8 tensor's name
 * @float_index: the float tensor it was matched with
 * @by_name: 1 if matched by name, 0 by position in the op sequence
 * @sqnr_db: 10 log10(sum f^2 / sum (f - q)^2) over all inputs (inf: exact)
 * @cosine: cosine similarity of f and q
 * @max_abs_err: max |f - q|
 * @min: smallest float value seen
 * @max: largest float value seen
 * @qmin: smallest value the int8 tensor represents
 * @qmax: largest value the int8 tensor represents
 * @clipped: fraction of float values outside [qmin, qmax] by over half a
 *           step
 */
struct qnpu_compare_layer {
	int op_index;
	const char *op_name;
	const char *name;
	int float_index;
	int by_name;
	double sqnr_db, cosine, max_abs_err;
	float min, max, qmin, qmax;
	double clipped;
};

/**
 * struct qnpu_compare_report - what qnpu_compare() found.
 * @num_inputs: inputs run
 * @num_layers: matched tensors, in the int8 model's op order
 * @layers: them
 * @is_classifier: the float model ends in SOFTMAX
 * @top1_agreement: fraction of inputs whose argmax agrees (classifiers;
 *                  first index wins ties)
 * @output_sqnr_db: SQNR of the dequantized outputs over all inputs
 * @output_max_abs_err: max |f - q| of the outputs
 */
struct qnpu_compare_report {
	int num_inputs;
	int num_layers;
	struct qnpu_compare_layer *layers;
	int is_classifier;
	double top1_agreement;
	double output_sqnr_db;
	double output_max_abs_err;
};

/**
 * qnpu_compare() - run a float model and an int8 model on the same inputs.
 * @float_path: the float32 .tflite
 * @int8: an int8 model of the same network, on any device; its layer
 *        callback is used during the call
 * @inputs: float32 inputs, every model input of one sample in order, then
 *          the next sample; int8 inputs are quantized as TFLite does
 *          (division in float32, round half away, clamp)
 * @size: bytes of @inputs, a whole number of samples
 * @out: the report, freed with qnpu_compare_free(); names in it point
 *       into @int8, valid while it lives
 */
int qnpu_compare(const char *float_path, struct qnpu_model *int8,
		 const float *inputs, size_t size,
		 struct qnpu_compare_report **out);
void qnpu_compare_free(struct qnpu_compare_report *r);

#ifdef __cplusplus
}
#endif

#endif /* QNPU_H */
