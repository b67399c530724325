/* registry.c - the drivers compiled into holdfast. */
#include "driver.h"

extern const DrvDriver drv_libvirt;

const DrvDriver *const drv_all[] = {&drv_libvirt, NULL};
