/*
 * report_time.c - the timestamps of the rejection report (see report.h,
 * report_int.h): syslog's "Nov 22 13:45:01" (no year: the year is guessed
 * from report.ref_year and report.now), RFC 3339 / ISO 8601 with or
 * without a zone, and the --since/--until values (report_parse_time).
 * Timestamps are converted only for rejections, through small caches
 * (mktime and localtime are slow, and mktime stats /etc/localtime).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_int.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
long report_days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void report_civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Epoch of a local civil time, with a cache of hour starts. */
static time_t local_epoch(struct report *r, int y, int mo, int d, int h, int mi, int s)
{
    long key = (((long)y * 16 + mo) * 32 + d) * 24 + h;
    size_t slot = (size_t)(key ^ (key >> 5)) & 63;
    if (r->lcache[slot].key != key) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_isdst = -1;
        r->lcache[slot].key = key;
        r->lcache[slot].t = mktime(&tm);
    }
    return r->lcache[slot].t + mi * 60 + s;
}

/* Local civil hour of an epoch, with a cache per quarter hour (every time
   zone offset and DST change is a multiple of 15 minutes). */
static void local_civil(struct report *r, time_t t, struct stamp *st)
{
    long blk = (long)(t >= 0 ? t / 900 : (t - 899) / 900);
    if (!r->tblock_valid || blk != r->tblock) {
        time_t b = (time_t)blk * 900;
        localtime_r(&b, &r->tblock_tm);
        r->tblock = blk;
        r->tblock_valid = 1;
    }
    st->y = r->tblock_tm.tm_year + 1900;
    st->mo = r->tblock_tm.tm_mon + 1;
    st->d = r->tblock_tm.tm_mday;
    st->h = r->tblock_tm.tm_hour;
    st->t = t;
}

static int month_of(const char *s)
{
    switch (s[0]) {
    case 'J': return s[1] == 'a' ? 1 : s[2] == 'n' ? 6 : s[2] == 'l' ? 7 : 0;
    case 'F': return s[1] == 'e' ? 2 : 0;
    case 'M': return s[2] == 'r' ? 3 : s[2] == 'y' ? 5 : 0;
    case 'A': return s[1] == 'p' ? 4 : s[1] == 'u' ? 8 : 0;
    case 'S': return s[1] == 'e' ? 9 : 0;
    case 'O': return s[1] == 'c' ? 10 : 0;
    case 'N': return s[1] == 'o' ? 11 : 0;
    case 'D': return s[1] == 'e' ? 12 : 0;
    }
    return 0;
}

/* Length of the timestamp at the start of a line judged by its shape only
   (0: none): 15 for syslog's "Nov 22 13:45:01", up to the first space for
   "2026-11-22T13:45:01[.frac][Z|+hh:mm|+hhmm]". */
size_t report_stamp_shape(const char *s, size_t len)
{
    if (len >= 15 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':')
        return 15;
    if (len >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':'
        && s[16] == ':') {
        size_t i = 19;
        while (i < len && s[i] != ' ')
            i++;
        return i;
    }
    return 0;
}

/* Parses the timestamp at s (a stamp_shape of n bytes, or a bare audit
   "time" value).  Returns 0, or -1 when it is not a valid time. */
int report_parse_stamp(struct report *r, const char *s, size_t n, struct stamp *st)
{
    if (n == 15 && s[3] == ' ') { /* syslog, no year */
        int mo = month_of(s);
        int d = s[4] == ' ' ? num(s + 5, 1) : num(s + 4, 2);
        int h = num(s + 7, 2), mi = num(s + 10, 2), sec = num(s + 13, 2);
        if (mo == 0 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
            return -1;
        int y = r->ref_year;
        while (d > days_in_month(y, mo) && y > r->ref_year - 4)
            y--; /* Feb 29 */
        if (d > days_in_month(y, mo))
            return -1;
        time_t t = local_epoch(r, y, mo, d, h, mi, sec);
        if (t > r->now + 86400) { /* December's lines read in January */
            y--;
            while (d > days_in_month(y, mo) && y > r->ref_year - 5)
                y--;
            t = local_epoch(r, y, mo, d, h, mi, sec);
        }
        st->y = y, st->mo = mo, st->d = d, st->h = h, st->t = t;
        return 0;
    }
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':'
        || s[16] != ':')
        return -1;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    int h = num(s + 11, 2), mi = num(s + 14, 2), sec = num(s + 17, 2);
    if (y < 1971 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0
        || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    size_t i = 19;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        while (i < n && dig(s[i]))
            i++;
    }
    if (i == n) { /* no zone: local time */
        st->y = y, st->mo = mo, st->d = d, st->h = h;
        st->t = local_epoch(r, y, mo, d, h, mi, sec);
        return 0;
    }
    long off;
    if (s[i] == 'Z' && i + 1 == n)
        off = 0;
    else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':' && num(s + i + 1, 2) >= 0
             && num(s + i + 4, 2) >= 0)
        off = num(s + i + 1, 2) * 3600L + num(s + i + 4, 2) * 60L;
    else if ((s[i] == '+' || s[i] == '-') && n - i == 5 && num(s + i + 1, 4) >= 0)
        off = num(s + i + 1, 2) * 3600L + num(s + i + 3, 2) * 60L;
    else
        return -1;
    if (s[i] == '-')
        off = -off;
    time_t t =
        (time_t)(report_days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + sec - off);
    local_civil(r, t, st);
    return 0;
}

void report_note_time(struct report *r, time_t t)
{
    struct report_input *in = r->cur;
    if (in && (in->first == 0 || t < in->first))
        in->first = t;
    if (in && t > in->last)
        in->last = t;
    if (r->log_first == 0 || t < r->log_first)
        r->log_first = t;
    if (t > r->log_last)
        r->log_last = t;
}

int report_parse_time(const char *s, time_t now, time_t *out)
{
    size_t n = strlen(s);
    char *end;
    if (n >= 2 && strchr("mhdw", s[n - 1]) && dig(s[0])) {
        long v = strtol(s, &end, 10);
        if (end == s + n - 1 && v >= 0 && v < 100000) {
            long unit = s[n - 1] == 'm'   ? 60
                        : s[n - 1] == 'h' ? 3600
                        : s[n - 1] == 'd' ? 86400
                                          : 7 * 86400;
            *out = now - (time_t)(v * unit);
            return 0;
        }
        return -1;
    }
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    if (y < 1971 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    if (n > 10) {
        if ((n != 16 && n != 19) || (s[10] != ' ' && s[10] != 'T') || s[13] != ':'
            || (n == 19 && s[16] != ':'))
            return -1;
        tm.tm_hour = num(s + 11, 2);
        tm.tm_min = num(s + 14, 2);
        if (n == 19)
            tm.tm_sec = num(s + 17, 2);
        if (tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0
            || tm.tm_sec > 60)
            return -1;
    }
    tm.tm_isdst = -1;
    *out = mktime(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}
