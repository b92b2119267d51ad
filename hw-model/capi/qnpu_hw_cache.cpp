// SPDX-License-Identifier: MIT
// The model cache. A configuration that is not linked in is keyed by its
// RTL parameters (qnpu_hw_params_key()) and by a hash of everything its
// model is built from (RTL, waivers, build script, this bridge: make passes
// QNPU_HW_BUILD_HASH), so a stale model is never loaded. Missing models are
// built by qnpu_hw_build.sh (Verilator, then a shared object exporting one
// factory) under a lock, then dlopen'ed once per process.
#include <dlfcn.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <string>

#include "qnpu_hw_cache.h"

extern char **environ;

namespace {

std::mutex g_lock;
std::map<std::string, qnpu_hw_impl::NewDevFn> g_loaded;

void set_err(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

int run_build(const std::string &dir, const std::string &cls, const qnpu_hw_params *p)
{
	std::string src = env_or("QNPU_HW_SRC", QNPU_HW_SRC_DIR);
	std::string script = src + "/hw-model/capi/qnpu_hw_build.sh";
	char vp[512];
	snprintf(vp, sizeof(vp),
		 "-GRows=%u -GCols=%u -GAbufBytes=%u -GWbufBytes=%u -GPbufBytes=%u "
		 "-GObufBytes=%u -GDmaBytes=%u -GQDepth=%u",
		 p->rows, p->cols, p->abuf_bytes, p->wbuf_bytes, p->pbuf_bytes, p->obuf_bytes,
		 p->dma_bytes, p->queue_depth);
	const char *argv[] = {"sh",	    script.c_str(),	 src.c_str(),
			      dir.c_str(),  cls.c_str(),	 vp,
			      QNPU_HW_RTL_FILES, QNPU_HW_VLT_OBJS, nullptr};
	pid_t pid;
	if (posix_spawnp(&pid, "sh", nullptr, nullptr, const_cast<char **>(argv), environ))
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

} // namespace

int qnpu_hw_cache_model(const qnpu_hw_params *p, qnpu_hw_impl::NewDevFn *fn, char *err,
			size_t errlen)
{
	char key[128];
	qnpu_hw_params_key(p, key, sizeof(key));
	std::lock_guard<std::mutex> guard(g_lock);
	auto it = g_loaded.find(key);
	if (it != g_loaded.end()) {
		*fn = it->second;
		return 0;
	}
	std::string dir = std::string(env_or("QNPU_HW_CACHE", QNPU_HW_CACHE_DIR)) + "/" + key +
			  "-" + QNPU_HW_BUILD_HASH;
	std::string so = dir + "/model.so";
	// a C++ identifier: Vqnpu_ + the key without dashes
	std::string cls = std::string("Vqnpu_") + key;
	for (char &c : cls)
		if (c == '-')
			c = '_';
	struct stat sb;
	std::string script = std::string(env_or("QNPU_HW_SRC", QNPU_HW_SRC_DIR)) +
			     "/hw-model/capi/qnpu_hw_build.sh";
	if (stat(so.c_str(), &sb) && access(script.c_str(), R_OK)) {
		set_err(err, errlen,
			"qnpu-hw: no %s model in the cache and no %s to build it "
			"(QNPU_HW_SRC names the qnpu source tree)",
			key, script.c_str());
		return -EIO;
	}
	if (stat(so.c_str(), &sb) && run_build(dir, cls, p)) {
		set_err(err, errlen, "qnpu-hw: building the %s model failed (log: %s.log)", key,
			dir.c_str());
		return -EIO;
	}
	void *h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		set_err(err, errlen, "qnpu-hw: cannot load the %s model: %s", key, dlerror());
		return -EIO;
	}
	void *sym = dlsym(h, QNPU_HW_MODEL_FACTORY);
	if (!sym) {
		set_err(err, errlen, "qnpu-hw: %s exports no " QNPU_HW_MODEL_FACTORY, so.c_str());
		dlclose(h);
		return -EIO;
	}
	// the factory takes the same arguments as new_dev<V>
	*fn = reinterpret_cast<qnpu_hw_impl::NewDevFn>(sym);
	g_loaded[key] = *fn;
	return 0;
}
