/* SPDX-License-Identifier: MIT */
/*
 * readfile.h - a whole small text file into memory: the programs and keys
 * an admin keeps in files beside mailhook.conf (transform_file,
 * mailhookctl --transform-file).
 *
 *   readfile(path, max, err)   the file's bytes and a NUL, malloc'ed (the
 *                              caller frees); NULL + err ("PATH: reason")
 *                              when it cannot be read, is not a regular
 *                              file, holds a NUL byte or is over max bytes
 */
#ifndef MH_READFILE_H
#define MH_READFILE_H

#include <stddef.h>
#include "msg.h"

char *readfile(const char *path, size_t max, mh_err_t *err);

#endif
