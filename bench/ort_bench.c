/* ort_bench.c - times ONNX Runtime's CPU provider through its C API, as nin_bench.c times nin:
 * median and best of N runs of one image after warm-up, in the same one-line format.
 * Usage: ort_bench MODEL.onnx [runs=50] [threads=1] [warmup=5]
 * The model is `make bench`'s (tools/nin_tools/bench/peers.py): input "input", float32 N x C x H x
 * W (pixel/255), output "logits"; batch 1. The session: intra-op threads = threads, inter-op 1,
 * sequential execution, all graph optimizations (as tools/nin_tools/bench/peers.py's
 * ort_session). The input is nin_bench's pseudo-random bytes / 255.
 * Prints "model threads batch median_ms best_ms images_per_s times_ms=..." then "logits=v,v,..."
 * (the last run's), so a caller can check the run against another build of ONNX Runtime.
 * The timed runs lie between two calls of bench_mark() (bench_driver.h): tools/arm64/bench.py
 * counts their instructions under qemu-aarch64 with libonnxruntime.so from the aarch64 wheel.
 *
 * ONNX Runtime's C API is a table of function pointers (OrtApi) that OrtGetApiBase()->GetApi(v)
 * returns; the table only grows from one version to the next, so version 1's first members keep
 * their places. Its header is not in the wheel, so the few declarations used here are written out
 * (their index in OrtApi, version 1): a mistaken index would fail the session or the logits check. */
#include "bench_driver.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtApi OrtApi;
typedef struct OrtApiBase {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;
const OrtApiBase *OrtGetApiBase(void);

enum { ORT_LOGGING_LEVEL_ERROR = 3, ORT_SEQUENTIAL = 0, ORT_ENABLE_ALL = 99, ORT_ARENA_ALLOCATOR = 1,
       ORT_MEM_TYPE_DEFAULT = 0, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1 };

/* The members of OrtApi used here: their index (version 1) and type. */
enum {
    GET_ERROR_MESSAGE = 2, CREATE_ENV = 3, CREATE_SESSION = 7, RUN = 9, CREATE_SESSION_OPTIONS = 10,
    SET_SESSION_EXECUTION_MODE = 13, SET_SESSION_GRAPH_OPTIMIZATION_LEVEL = 23, SET_INTRA_OP_NUM_THREADS = 24,
    SET_INTER_OP_NUM_THREADS = 25, SESSION_GET_INPUT_TYPE_INFO = 33, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49,
    GET_TENSOR_MUTABLE_DATA = 51, CAST_TYPE_INFO_TO_TENSOR_INFO = 55, GET_DIMENSIONS_COUNT = 61,
    GET_DIMENSIONS = 62, GET_TENSOR_SHAPE_ELEMENT_COUNT = 64, GET_TENSOR_TYPE_AND_SHAPE = 65,
    CREATE_CPU_MEMORY_INFO = 69,
};
typedef const char *(*GetErrorMessageFn)(const OrtStatus *);
typedef OrtStatus *(*CreateEnvFn)(int level, const char *logid, OrtEnv **out);
typedef OrtStatus *(*CreateSessionFn)(const OrtEnv *, const char *path, const OrtSessionOptions *, OrtSession **);
typedef OrtStatus *(*RunFn)(OrtSession *, const void *run_options, const char *const *input_names,
                            const OrtValue *const *inputs, size_t input_count, const char *const *output_names,
                            size_t output_count, OrtValue **outputs);
typedef OrtStatus *(*CreateSessionOptionsFn)(OrtSessionOptions **);
typedef OrtStatus *(*SetOptionIntFn)(OrtSessionOptions *, int);
typedef OrtStatus *(*SessionGetInputTypeInfoFn)(const OrtSession *, size_t index, OrtTypeInfo **);
typedef OrtStatus *(*CreateTensorWithDataFn)(const OrtMemoryInfo *, void *data, size_t bytes, const int64_t *shape,
                                             size_t rank, int type, OrtValue **out);
typedef OrtStatus *(*GetTensorMutableDataFn)(OrtValue *, void **out);
typedef OrtStatus *(*CastTypeInfoToTensorInfoFn)(const OrtTypeInfo *, const OrtTensorTypeAndShapeInfo **out);
typedef OrtStatus *(*GetDimensionsCountFn)(const OrtTensorTypeAndShapeInfo *, size_t *out);
typedef OrtStatus *(*GetDimensionsFn)(const OrtTensorTypeAndShapeInfo *, int64_t *dims, size_t count);
typedef OrtStatus *(*GetTensorShapeElementCountFn)(const OrtTensorTypeAndShapeInfo *, size_t *out);
typedef OrtStatus *(*GetTensorTypeAndShapeFn)(const OrtValue *, OrtTensorTypeAndShapeInfo **out);
typedef OrtStatus *(*CreateCpuMemoryInfoFn)(int allocator_type, int mem_type, OrtMemoryInfo **out);

static void *const *api;  /* OrtApi as its array of function pointers */
#define ORT(INDEX, TYPE) ((TYPE)api[INDEX])

/* Exits with ONNX Runtime's message if `status` is an error. */
static void check(OrtStatus *status, const char *what) {
    if (!status) return;
    fprintf(stderr, "ort_bench: %s: %s\n", what, ORT(GET_ERROR_MESSAGE, GetErrorMessageFn)(status));
    exit(1);
}

int main(int argc, char **argv) {
    struct bench_settings settings = bench_parse(argc, argv, "ort_bench", "MODEL.onnx", 0);
    int runs = settings.runs, threads = settings.threads, warmup = settings.warmup;
    const OrtApiBase *base = OrtGetApiBase();
    api = (void *const *)base->GetApi(1);
    if (!api) {
        fprintf(stderr, "ort_bench: ONNX Runtime %s does not give version 1 of its C API\n", base->GetVersionString());
        return 1;
    }
    OrtEnv *env;
    OrtSessionOptions *options;
    OrtSession *session;
    check(ORT(CREATE_ENV, CreateEnvFn)(ORT_LOGGING_LEVEL_ERROR, "ort_bench", &env), "CreateEnv");
    check(ORT(CREATE_SESSION_OPTIONS, CreateSessionOptionsFn)(&options), "CreateSessionOptions");
    check(ORT(SET_INTRA_OP_NUM_THREADS, SetOptionIntFn)(options, threads), "SetIntraOpNumThreads");
    check(ORT(SET_INTER_OP_NUM_THREADS, SetOptionIntFn)(options, 1), "SetInterOpNumThreads");
    check(ORT(SET_SESSION_EXECUTION_MODE, SetOptionIntFn)(options, ORT_SEQUENTIAL), "SetSessionExecutionMode");
    check(ORT(SET_SESSION_GRAPH_OPTIMIZATION_LEVEL, SetOptionIntFn)(options, ORT_ENABLE_ALL),
          "SetSessionGraphOptimizationLevel");
    check(ORT(CREATE_SESSION, CreateSessionFn)(env, argv[1], options, &session), argv[1]);

    /* The input's shape, batch 1 where the model leaves it open. */
    OrtTypeInfo *type;
    const OrtTensorTypeAndShapeInfo *info;
    size_t rank;
    int64_t shape[8];
    check(ORT(SESSION_GET_INPUT_TYPE_INFO, SessionGetInputTypeInfoFn)(session, 0, &type), "SessionGetInputTypeInfo");
    check(ORT(CAST_TYPE_INFO_TO_TENSOR_INFO, CastTypeInfoToTensorInfoFn)(type, &info), "CastTypeInfoToTensorInfo");
    check(ORT(GET_DIMENSIONS_COUNT, GetDimensionsCountFn)(info, &rank), "GetDimensionsCount");
    if (rank != 4) {
        fprintf(stderr, "ort_bench: %s: input of rank %zu, not N x C x H x W\n", argv[1], rank);
        return 1;
    }
    check(ORT(GET_DIMENSIONS, GetDimensionsFn)(info, shape, rank), "GetDimensions");
    shape[0] = 1;
    if (shape[1] < 1 || shape[2] < 1 || shape[3] < 1) {
        fprintf(stderr, "ort_bench: %s: input dimensions not fixed\n", argv[1]);
        return 1;
    }
    size_t count = (size_t)(shape[1] * shape[2] * shape[3]);
    float *input = malloc(sizeof(float) * count);
    for (size_t i = 0; i < count; i++) input[i] = (float)(uint8_t)((i * 2654435761u) >> 24) / 255.0f;
    OrtMemoryInfo *memory;
    OrtValue *tensor;
    check(ORT(CREATE_CPU_MEMORY_INFO, CreateCpuMemoryInfoFn)(ORT_ARENA_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, &memory),
          "CreateCpuMemoryInfo");
    check(ORT(CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE, CreateTensorWithDataFn)(
              memory, input, sizeof(float) * count, shape, 4, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &tensor),
          "CreateTensorWithDataAsOrtValue");

    const char *input_names[] = {"input"}, *output_names[] = {"logits"};
    const OrtValue *inputs[] = {tensor};
    /* The first run allocates the output; the others write into it. */
    OrtValue *outputs[] = {NULL};
    double *times = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < warmup + runs; i++) {
        if (i == warmup) bench_mark();
        double t0 = bench_now_ms();
        check(ORT(RUN, RunFn)(session, NULL, input_names, inputs, 1, output_names, 1, outputs), "Run");
        if (i >= warmup) times[i - warmup] = bench_now_ms() - t0;
    }
    bench_mark();
    OrtValue *output = outputs[0];

    bench_report(argv[1], threads, 1, times, runs);
    OrtTensorTypeAndShapeInfo *out_info;
    size_t classes;
    float *logits;
    check(ORT(GET_TENSOR_TYPE_AND_SHAPE, GetTensorTypeAndShapeFn)(output, &out_info), "GetTensorTypeAndShape");
    check(ORT(GET_TENSOR_SHAPE_ELEMENT_COUNT, GetTensorShapeElementCountFn)(out_info, &classes),
          "GetTensorShapeElementCount");
    check(ORT(GET_TENSOR_MUTABLE_DATA, GetTensorMutableDataFn)(output, (void **)&logits), "GetTensorMutableData");
    printf("\nlogits=");
    for (size_t i = 0; i < classes; i++) printf("%s%.6g", i ? "," : "", logits[i]);
    printf("\n");
    return 0;
}
