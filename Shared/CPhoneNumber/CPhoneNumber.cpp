// The one place that calls libphonenumber (C++): a C interface Swift can import without C++ interop.
#include "CPhoneNumber.h"

#include <cstring>
#include <set>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

extern "C" int commlog_phone_e164(const char *number, const char *region, char *out, size_t out_size) {
    const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
    PhoneNumber parsed;
    if (util.Parse(std::string(number), std::string(region ? region : "ZZ"), &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) {
        return 1;
    }
    if (!util.IsPossibleNumber(parsed)) {
        return 2;
    }
    std::string formatted;
    util.Format(parsed, PhoneNumberUtil::E164, &formatted);
    if (formatted.size() + 1 > out_size) {
        return 3;
    }
    std::memcpy(out, formatted.c_str(), formatted.size() + 1);
    return 0;
}

extern "C" int commlog_phone_region_supported(const char *region) {
    std::set<std::string> regions;
    PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
    return regions.count(std::string(region)) ? 1 : 0;
}

extern "C" int commlog_phone_region_prefixes(const char *region, char *national_prefix, size_t prefix_size) {
    const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
    const int country_code = util.GetCountryCodeForRegion(std::string(region));
    if (country_code == 0) {
        return 0;
    }
    std::string prefix;
    util.GetNddPrefixForRegion(std::string(region), true, &prefix);
    if (prefix.size() + 1 > prefix_size) {
        prefix.clear();
    }
    std::memcpy(national_prefix, prefix.c_str(), prefix.size() + 1);
    return country_code;
}
