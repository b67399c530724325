/* registry.c - the drivers compiled into holdfast. */
#include "driver.h"

extern const DrvDriver drv_libvirt;
extern const DrvDriver drv_hyperv;

const DrvDriver *const drv_all[] = {&drv_libvirt, &drv_hyperv, NULL};
