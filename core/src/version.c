/* version.c - the library's version at run time. */
#include "alcm.h"

unsigned alcm_version_number(void)
{
    return ALCM_VERSION_NUMBER;
}

const char *alcm_version_string(void)
{
    return ALCM_VERSION_STRING;
}
