/*
 * libworkflow: loading handler plugins into an engine.
 *
 * Plugins load only from directories the engine was told to trust. A
 * plugin file is refused when it resolves (symbolic links, "..") outside
 * those directories, when it or its directory can be written by the group
 * or by others, when it was built for another ABI, when it lacks the entry
 * point, or when its init fails: the error names the file and the reason,
 * and nothing of a refused plugin stays registered. See handler.h for the
 * plugin side.
 */
#ifndef WF_PLUGIN_H
#define WF_PLUGIN_H

#include "workflow/common.h"
#include "workflow/engine.h"
#include "workflow/handler.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Trust a directory to load plugins from.
 * @param dir resolved with realpath(); must be a directory not writable by
 *            the group or by others. Copied.
 * @return WF_OK; WF_EIO (does not exist); WF_EPERM (writable by others,
 *         not a directory); WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_add_plugin_dir(wf_engine *engine, const char *dir,
                                    wf_error *err);

/**
 * Load a plugin and let it register its handlers.
 * @param[out] out   the loaded plugin; unload with wf_plugin_unload(), or
 *                   leave it to wf_engine_free().
 * @param path       the .so file; must resolve inside a trusted directory.
 * @param config_json the plugin's configuration, a JSON object as text;
 *                   NULL means "{}". Passed to the plugin's init.
 * @return WF_OK; WF_EPERM (outside the trusted directories, or writable by
 *         others); WF_EIO (cannot open or dlopen); WF_EABI (no entry point,
 *         another ABI, init failed); WF_EPARSE (config not JSON); WF_EEXIST
 *         (a resource it registers is already served); WF_ENOMEM.
 * Threads: any; loads are serialised per engine.
 */
WF_API int wf_engine_load_plugin(wf_plugin **out, wf_engine *engine,
                                 const char *path, const char *config_json,
                                 wf_error *err);

/**
 * Unload a plugin: its handlers are unregistered at once (no new call is
 * made), calls already running finish, then its fini runs and the file is
 * closed. Accepts NULL. Tasks it left pending (to complete later) must be
 * completed or cancelled by the plugin's fini.
 * Threads: any but the engine's own (not from a handler).
 */
WF_API void wf_plugin_unload(wf_plugin *plugin);

/** The plugin's name, from its descriptor (borrowed). */
WF_API const char *wf_plugin_name(const wf_plugin *plugin);

/** The file the plugin was loaded from, resolved (borrowed). */
WF_API const char *wf_plugin_path(const wf_plugin *plugin);

#ifdef __cplusplus
}
#endif

#endif /* WF_PLUGIN_H */
