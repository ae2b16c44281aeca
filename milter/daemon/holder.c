/*
 * holder.c - owns the daemon's current configuration.  Sessions take a
 * reference when they start and keep it to the end, so a reload never
 * changes the rules under a session in progress; a broken file on reload
 * is logged and the old rules stay.
 */
#include <pthread.h>
#include <syslog.h>

#include "daemon.h"

static pthread_mutex_t holder_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

void holder_set(struct config *c)
{
    pthread_mutex_lock(&holder_lock);
    struct config *old = current;
    current = c;
    pthread_mutex_unlock(&holder_lock);
    if (old)
        conf_unref(old);
}

struct config *holder_get(void)
{
    pthread_mutex_lock(&holder_lock);
    struct config *c = current ? conf_ref(current) : NULL;
    pthread_mutex_unlock(&holder_lock);
    return c;
}

int holder_reload(const char *path)
{
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(path, &dl);
    diag_sort(&dl);
    logging_diags(&dl);
    diag_free(&dl);
    if (c == NULL) {
        logging_printf(LOG_ERR, NULL, "reload of %s failed: keeping the rules loaded before", path);
        return -1;
    }
    size_t n = c->nrules;
    holder_set(c);
    logging_printf(LOG_INFO, NULL, "reloaded %s: %zu rules", path, n);
    return 0;
}

void holder_clear(void)
{
    holder_set(NULL);
}
