/* Objects as files below the object store's root: names checked, paths
 * walked one component at a time with O_NOFOLLOW (no "..", no links), a
 * write made through a temporary file, a bucket listed in key order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "objstore.h"

/* S3 keys are at most 1,024 bytes. */
#define KEY_MAX 1024
#define TMP_PREFIX ".wf-tmp-"

/* Bucket names as S3 allows them (legacy names included: capitals and
 * underscores), which also keeps them a single, ordinary path component. */
static bool bucket_ok(const char *b) {
  size_t n = strlen(b);
  if (n == 0 || n > 255 || b[0] == '.' || b[0] == '-') return false;
  for (const char *c = b; *c; c++) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_';
    if (!ok) return false;
  }
  return true;
}

/* A key maps to a relative path: no leading '/', no empty, "." or ".."
 * component (S3 would keep them; a file system cannot). */
static const char *key_problem(const char *key) {
  size_t n = strlen(key);
  if (n == 0) return "the key is empty";
  if (n > KEY_MAX) return "the key is longer than 1024 bytes";
  if (key[0] == '/') return "the key is absolute (starts with '/')";
  const char *p = key;
  while (*p) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0) return "the key has an empty path component";
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return "the key has a '.' or '..' path component";
    if (!end) break;
    p = end + 1;
  }
  if (key[n - 1] == '/') return "the key ends with '/'";
  return NULL;
}

static int fail(wf__strbuf *why, const char *bucket, const char *key,
                const char *what) {
  wf__strbuf_printf(why, "s3://%s/%s: %s", bucket, key ? key : "", what);
  return -1;
}

static int errno_fail(wf__strbuf *why, const char *bucket, const char *key,
                      int e, bool bucket_level) {
  if (e == ENOENT || e == ENOTDIR)
    return fail(why, bucket, key,
                bucket_level ? "The specified bucket does not exist."
                             : "The specified key does not exist.");
  if (e == ELOOP)
    return fail(why, bucket, key,
                "a symbolic link on the path: objects are read and written "
                "only below the object store's root, never through links");
  wf__strbuf_printf(why, "s3://%s/%s: %s", bucket, key ? key : "",
                    strerror(e));
  return -1;
}

/* Why opening `name` in `dir` failed with `e`: a link is named as such
 * whatever errno O_NOFOLLOW gave (ELOOP, or ENOTDIR with O_DIRECTORY). */
static int open_errno(int dir, const char *name, int e) {
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return ELOOP;
  return e;
}

/* The bucket's directory, opened below root. */
static int open_bucket(int *out, const char *root, const char *bucket,
                       const char *key, wf__strbuf *why) {
  if (!root || !*root)
    return fail(why, bucket, key, "no object store is configured");
  if (!bucket_ok(bucket))
    return fail(why, bucket, key,
                "the bucket name is not valid (letters, digits, '.', '-' "
                "and '_', not starting with '.' or '-')");
  int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) {
    wf__strbuf_printf(why, "the object store's root %s: %s", root,
                      strerror(errno));
    return -1;
  }
  int fd = openat(rfd, bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int e = fd < 0 ? open_errno(rfd, bucket, errno) : 0;
  close(rfd);
  if (fd < 0) return errno_fail(why, bucket, key, e, true);
  *out = fd;
  return 0;
}

/* Walk the key's directories below the bucket's (made when `create`);
 * *dir the last directory, *base the key's last component. */
static int walk(int *dir, const char **base, const char *root,
                const char *bucket, const char *key, bool create,
                wf__strbuf *why) {
  const char *problem = key_problem(key);
  if (problem) return fail(why, bucket, key, problem);
  int fd;
  if (open_bucket(&fd, root, bucket, key, why) != 0) return -1;
  char part[KEY_MAX + 1];
  const char *p = key;
  for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
    size_t len = (size_t)(slash - p);
    memcpy(part, p, len);
    part[len] = '\0';
    if (create && mkdirat(fd, part, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      close(fd);
      return errno_fail(why, bucket, key, e, false);
    }
    int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = next < 0 ? open_errno(fd, part, errno) : 0;
    close(fd);
    if (next < 0) return errno_fail(why, bucket, key, e, false);
    fd = next;
  }
  *dir = fd;
  *base = p;
  return 0;
}

int wf__os_open(int *out, const char *root, const char *bucket,
                const char *key, wf__strbuf *why) {
  int dir;
  const char *base;
  if (walk(&dir, &base, root, bucket, key, false, why) != 0) return -1;
  int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  int e = fd < 0 ? open_errno(dir, base, errno) : 0;
  close(dir);
  if (fd < 0) return errno_fail(why, bucket, key, e, false);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(why, bucket, key, "The specified key does not exist.");
  }
  /* O_NONBLOCK kept a FIFO from blocking the open; reads block again. */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  *out = fd;
  return 0;
}

static int write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Temporary names: unique in this process (a counter), across processes
 * (the pid). */
static atomic_uint tmp_counter;

int wf__os_put(const char *root, const char *bucket, const char *key,
               const char *data, size_t len, wf__strbuf *why) {
  int dir;
  const char *base;
  if (walk(&dir, &base, root, bucket, key, true, why) != 0) return -1;
  char tmp[64];
  snprintf(tmp, sizeof tmp, TMP_PREFIX "%ld-%u", (long)getpid(),
           atomic_fetch_add(&tmp_counter, 1));
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0666);
  int rc = -1, e = errno;
  if (fd >= 0) {
    if (write_all(fd, data, len) == 0 && fsync(fd) == 0) rc = 0;
    e = errno;
    close(fd);
    if (rc == 0 && renameat(dir, tmp, dir, base) != 0) {
      e = errno;
      rc = -1;
    }
    if (rc != 0) unlinkat(dir, tmp, 0);
  }
  close(dir);
  if (rc != 0) return errno_fail(why, bucket, key, e, false);
  return 0;
}

/* ---- listing ---- */

typedef struct entry {
  char *key;
  int64_t size, mtime;
} entry;

typedef struct listing {
  entry *v;
  size_t n, cap;
  bool oom;
} listing;

static void add(listing *l, const char *key, const struct stat *st) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    entry *v = wf__realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  char *k = wf__strdup(key);
  if (!k) {
    l->oom = true;
    return;
  }
  l->v[l->n++] = (entry){k, (int64_t)st->st_size, (int64_t)st->st_mtime};
}

/* Keys below `dir` (whose own key, with its '/', is `path`) that can
 * match prefix; links and temporary files are passed over. */
static void walk_dir(listing *l, int dir, char *path, size_t plen,
                     const char *prefix) {
  DIR *d = fdopendir(dir);
  if (!d) {
    close(dir);
    return;
  }
  struct dirent *de;
  size_t pre = prefix ? strlen(prefix) : 0;
  while (!l->oom && (de = readdir(d))) {
    const char *name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..") ||
        !strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)))
      continue;
    size_t nlen = strlen(name);
    if (plen + nlen + 2 > KEY_MAX + 1) continue;
    memcpy(path + plen, name, nlen + 1);
    struct stat st;
    if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    size_t klen = plen + nlen;
    /* Compare over the shorter of key and prefix: a directory is entered
     * when the prefix may go on inside it. */
    size_t cmp = klen < pre ? klen : pre;
    if (cmp && memcmp(path, prefix, cmp) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd(d), name,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      path[klen] = '/';
      path[klen + 1] = '\0';
      walk_dir(l, sub, path, klen + 1, prefix);
    } else if (S_ISREG(st.st_mode) && klen >= pre) {
      add(l, path, &st);
    }
  }
  closedir(d);
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* An object's ETag, as S3 gives a single-part upload's: its MD5, quoted. */
static int etag(char out[35], const char *root, const char *bucket,
                const char *key, wf__strbuf *why) {
  int fd;
  if (wf__os_open(&fd, root, bucket, key, why) != 0) return -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ? 0 : -1;
  char buf[65536];
  ssize_t n;
  while (rc == 0 && (n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || !EVP_DigestUpdate(ctx, buf, (size_t)n)) rc = -1;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (rc == 0 && !EVP_DigestFinal_ex(ctx, md, &mdlen)) rc = -1;
  EVP_MD_CTX_free(ctx);
  close(fd);
  if (rc != 0) return fail(why, bucket, key, "could not be read");
  static const char hex[] = "0123456789abcdef";
  out[0] = '"';
  for (unsigned i = 0; i < mdlen && i < 16; i++) {
    out[1 + 2 * i] = hex[md[i] >> 4];
    out[2 + 2 * i] = hex[md[i] & 15];
  }
  out[33] = '"';
  out[34] = '\0';
  return 0;
}

int wf__os_list(json_t **out, const char *root, const char *bucket,
                const char *prefix, size_t max, wf__strbuf *why) {
  *out = NULL;
  int dir;
  if (open_bucket(&dir, root, bucket, prefix, why) != 0) return -1;
  listing l = {0};
  char path[KEY_MAX + 2] = "";
  walk_dir(&l, dir, path, 0, prefix && *prefix ? prefix : NULL);
  int rc = l.oom ? fail(why, bucket, prefix, "out of memory") : 0;
  if (rc == 0) qsort(l.v, l.n, sizeof *l.v, by_key);
  json_t *items = rc == 0 ? json_array() : NULL;
  for (size_t i = 0; items && i < l.n && (!max || i < max); i++) {
    char tag[35];
    if (etag(tag, root, bucket, l.v[i].key, why) != 0) {
      rc = -1;
      break;
    }
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "Etag", tag, "Key",
                          l.v[i].key, "LastModified", (json_int_t)l.v[i].mtime,
                          "Size", (json_int_t)l.v[i].size, "StorageClass",
                          "STANDARD");
    if (!o || json_array_append_new(items, o) != 0) {
      rc = fail(why, bucket, prefix, "out of memory");
      break;
    }
  }
  for (size_t i = 0; i < l.n; i++) wf__free(l.v[i].key);
  wf__free(l.v);
  if (rc != 0 || !items) {
    json_decref(items);
    return -1;
  }
  *out = items;
  return 0;
}
