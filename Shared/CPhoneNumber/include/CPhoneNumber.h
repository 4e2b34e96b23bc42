#ifndef COMMLOG_CPHONENUMBER_H
#define COMMLOG_CPHONENUMBER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Parses `number` (national numbers read in `region`, an ISO 3166 code such as "AU"; "ZZ" when unknown) and
/// writes its E.164 form ("+61412345678", NUL-terminated) to `out`.
/// Returns 0 on success, 1 when libphonenumber cannot parse it, 2 when it parses but is not a possible number,
/// 3 when `out` is too small.
int commlog_phone_e164(const char *number, const char *region, char *out, size_t out_size);

/// Whether libphonenumber knows `region` ("AU", "GB", ...).
int commlog_phone_region_supported(const char *region);

/// The country calling code of `region` (44 for "GB"; 0 when unknown), and its national (trunk) prefix written
/// to `national_prefix` ("0" for GB, "" where there is none, NUL-terminated).
int commlog_phone_region_prefixes(const char *region, char *national_prefix, size_t prefix_size);

#ifdef __cplusplus
}
#endif

#endif
