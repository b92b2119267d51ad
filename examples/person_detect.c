// SPDX-License-Identifier: MIT
/*
 * Example application: person detection with libqnpu, using nothing but
 * the public header. Builds with `pkg-config --cflags --libs qnpu`.
 *
 * usage: person_detect [-d DEVICE] MODEL.tflite IMAGE.int8.bin...
 * Prints both class scores and the verdict for each 96x96 gray image.
 * Exit status: 0 on success, 1 on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qnpu.h>

static int classify(struct qnpu_model *m, const char *path)
{
	struct qnpu_tensor_info in, out;
	unsigned char img[96 * 96];
	int8_t scores[2];
	float no_person, person;
	size_t n;
	FILE *f;

	qnpu_model_input_info(m, 0, &in);
	qnpu_model_output_info(m, 0, &out);
	if (in.bytes != sizeof(img) || out.bytes != sizeof(scores)) {
		fprintf(stderr, "not a person_detect model (input %zu bytes, output %zu)\n",
			in.bytes, out.bytes);
		return 1;
	}
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	if (n != sizeof(img)) {
		fprintf(stderr, "%s: expected %zu bytes, read %zu\n", path,
			sizeof(img), n);
		return 1;
	}
	if (qnpu_model_set_input(m, 0, img, sizeof(img)) ||
	    qnpu_model_run(m) ||
	    qnpu_model_get_output(m, 0, scores, sizeof(scores))) {
		fprintf(stderr, "%s: %s\n", path, qnpu_last_error());
		return 1;
	}
	no_person = out.scale * (float)(scores[0] - out.zero_point);
	person = out.scale * (float)(scores[1] - out.zero_point);
	printf("%-40s person %4d (%.3f)  no person %4d (%.3f)  -> %s\n", path,
	       scores[1], (double)person, scores[0], (double)no_person,
	       scores[1] > scores[0] ? "PERSON" : "NO PERSON");
	return 0;
}

/* What ran where in the last inference, and how busy the MAC array was. */
static void summary(const struct qnpu_device *dev, struct qnpu_model *m)
{
	struct qnpu_device_info di;
	uint64_t macs = 0, npu_macs = 0, cycles = 0;
	int i, n = qnpu_model_num_ops(m), on_npu = 0;

	qnpu_device_query(dev, &di);
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;

		qnpu_model_op_info(m, i, &op);
		qnpu_model_op_stats(m, i, &st);
		macs += op.macs;
		if (op.target == QNPU_TARGET_NPU) {
			on_npu++;
			npu_macs += op.macs;
			cycles += st.cycles;
		}
	}
	if (!di.is_npu || !cycles) {
		printf("all %d operators ran on the CPU\n", n);
		return;
	}
	printf("%d of %d operators on the %ux%u NPU: %llu of %llu MACs in %llu cycles, "
	       "MAC utilization %.1f%% (%.1f us at 1 GHz)\n",
	       on_npu, n, di.rows, di.cols, (unsigned long long)npu_macs,
	       (unsigned long long)macs, (unsigned long long)cycles,
	       100.0 * (double)npu_macs /
	       ((double)di.rows * di.cols * (double)cycles),
	       (double)cycles / 1e3);
}

int main(int argc, char **argv)
{
	const char *device = NULL;
	struct qnpu_device *dev;
	struct qnpu_model *m;
	int i = 1, ret = 0;

	if (argc > 2 && !strcmp(argv[1], "-d")) {
		device = argv[2];
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: %s [-d DEVICE] MODEL.tflite IMAGE.int8.bin...\n",
			argv[0]);
		return 1;
	}
	if (qnpu_device_open(device, &dev)) {
		fprintf(stderr, "%s\n", qnpu_last_error());
		return 1;
	}
	if (qnpu_model_load_file(dev, argv[i], &m)) {
		fprintf(stderr, "%s\n", qnpu_last_error());
		qnpu_device_close(dev);
		return 1;
	}
	printf("person_detect on device \"%s\"\n", qnpu_device_name(dev));
	for (i++; i < argc; i++)
		ret |= classify(m, argv[i]);
	if (!ret)
		summary(dev, m);
	qnpu_model_free(m);
	qnpu_device_close(dev);
	return ret;
}
