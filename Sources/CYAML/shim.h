#ifndef TCBUILD_CYAML_SHIM_H
#define TCBUILD_CYAML_SHIM_H
#include <yaml.h>
#endif
