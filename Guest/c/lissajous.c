/*
 * lissajous.c — the graphic example: an animated Lissajous curve drawn on /dev/fb0 through
 * the Linux fbdev interface (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO, mmap, FBIOPAN_DISPLAY),
 * unmodified as it would run on a Linux console.
 *
 * Layer: guest programs (Guest/). Under egg the framebuffer is the kernel's /dev/fb0
 * (Sources/KernelCore/Devices/FramebufferDevice.swift); Tests/integration/iso.sh boots it
 * from an `egg pack` image, takes a QEMU screendump while it runs and looks for the curve's
 * colour inside the box this program prints. Natively, on a machine without a framebuffer
 * it may open, it prints "PASS lissajous: no framebuffer, skipped" — iso.sh requires the
 * drawing verdict instead.
 *
 * Usage: lissajous [SECONDS [FRAMES]]   (default: 4 seconds, at most 100000 frames)
 * Output: one "lissajous: drawing ..." line (colour and bounding box) when drawing starts,
 * then the verdict "PASS lissajous: N frames on WxH" after the last frame.
 * The fb structures are declared here (layouts from include/uapi/linux/fb.h) because
 * musl-gcc has no kernel headers.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include "check.h"

const char *const test_name = "lissajous";

#define FBIOGET_VSCREENINFO 0x4600
#define FBIOGET_FSCREENINFO 0x4602
#define FBIOPAN_DISPLAY 0x4606

struct fb_bitfield { uint32_t offset, length, msb_right; };
struct fb_var_screeninfo {
    uint32_t xres, yres, xres_virtual, yres_virtual, xoffset, yoffset, bits_per_pixel, grayscale;
    struct fb_bitfield red, green, blue, transp;
    uint32_t nonstd, activate, height, width, accel_flags;
    uint32_t pixclock, left_margin, right_margin, upper_margin, lower_margin, hsync_len, vsync_len;
    uint32_t sync, vmode, rotate, colorspace, reserved[4];
};
struct fb_fix_screeninfo {
    char id[16];
    unsigned long smem_start;
    uint32_t smem_len, type, type_aux, visual;
    uint16_t xpanstep, ypanstep, ywrapstep;
    uint32_t line_length;
    unsigned long mmio_start;
    uint32_t mmio_len, accel;
    uint16_t capabilities, reserved[2];
};
_Static_assert(sizeof(struct fb_var_screeninfo) == 160, "fb_var_screeninfo layout");
_Static_assert(sizeof(struct fb_fix_screeninfo) == 80, "fb_fix_screeninfo layout");

/* The curve's colour, which iso.sh looks for in the screendump. */
#define CURVE_R 0xFF
#define CURVE_G 0xC0
#define CURVE_B 0x00
#define POINTS 2400
#define DOT 3 /* each point is a DOT × DOT square */

static struct fb_var_screeninfo var;
static struct fb_fix_screeninfo fix;
static uint8_t *fb;
static int bytes_per_pixel;

/* sin(x) without libm (the glibc guests link without -lm): reduce to [-pi, pi], then a
 * Taylor polynomial to x^11, good to ~1e-6 there — far below one pixel. */
static double sine(double x)
{
    const double pi = 3.14159265358979323846, two_pi = 2 * pi;
    x -= two_pi * (double)(long)(x / two_pi);
    if (x > pi)
        x -= two_pi;
    if (x < -pi)
        x += two_pi;
    double x2 = x * x, term = x, sum = x;
    for (int n = 1; n <= 5; n++) {
        term *= -x2 / (double)((2 * n) * (2 * n + 1));
        sum += term;
    }
    return sum;
}

static uint32_t channel(uint32_t value8, struct fb_bitfield f)
{
    if (f.length == 0 || f.length > 8)
        return 0;
    return (value8 >> (8 - f.length)) << f.offset;
}

static uint32_t rgb(uint32_t r, uint32_t g, uint32_t b)
{
    return channel(r, var.red) | channel(g, var.green) | channel(b, var.blue);
}

static void put_pixel(int x, int y, uint32_t value)
{
    if (x < 0 || y < 0 || x >= (int)var.xres || y >= (int)var.yres)
        return;
    uint8_t *p = fb + (size_t)y * fix.line_length + (size_t)x * (size_t)bytes_per_pixel;
    switch (bytes_per_pixel) {
    case 4: *(volatile uint32_t *)p = value; break;
    case 3: p[0] = (uint8_t)value; p[1] = (uint8_t)(value >> 8); p[2] = (uint8_t)(value >> 16); break;
    case 2: *(volatile uint16_t *)p = (uint16_t)value; break;
    default: *p = (uint8_t)value; break;
    }
}

static void fill_rect(int x0, int y0, int w, int h, uint32_t value)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            put_pixel(x, y, value);
}

/* x = cx + ax·sin(3t + phase), y = cy + ay·sin(2t): the 3:2 Lissajous figure, drifting in
 * phase from frame to frame. */
static void draw_curve(int cx, int cy, int ax, int ay, double phase, uint32_t value)
{
    const double two_pi = 6.28318530717958647692;
    for (int i = 0; i < POINTS; i++) {
        double t = two_pi * i / POINTS;
        int x = cx + (int)(ax * sine(3 * t + phase));
        int y = cy + (int)(ay * sine(2 * t));
        fill_rect(x - DOT / 2, y - DOT / 2, DOT, DOT, value);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? (double)atoi(argv[1]) : 4;
    long max_frames = argc > 2 ? atol(argv[2]) : 100000;

    int fd = open("/dev/fb0", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == EACCES || errno == ENXIO || errno == ENODEV || errno == EPERM)
            return pass("no framebuffer, skipped (open /dev/fb0: %s)", strerror(errno));
        fail("open /dev/fb0: %s", strerror(errno));
    }
    CHECK(ioctl(fd, FBIOGET_VSCREENINFO, &var) == 0, "FBIOGET_VSCREENINFO: %s", strerror(errno));
    CHECK(ioctl(fd, FBIOGET_FSCREENINFO, &fix) == 0, "FBIOGET_FSCREENINFO: %s", strerror(errno));
    CHECK(var.xres >= 64 && var.yres >= 64, "screen too small: %ux%u", var.xres, var.yres);
    CHECK(var.bits_per_pixel == 16 || var.bits_per_pixel == 24 || var.bits_per_pixel == 32,
          "unsupported depth %u bpp", var.bits_per_pixel);
    bytes_per_pixel = (int)(var.bits_per_pixel + 7) / 8;
    CHECK(fix.line_length >= var.xres * (uint32_t)bytes_per_pixel, "line_length %u < %u×%d",
          fix.line_length, var.xres, bytes_per_pixel);
    size_t size = (size_t)fix.smem_len;
    CHECK(size >= (size_t)fix.line_length * var.yres, "smem_len %zu too small", size);

    fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(fb != MAP_FAILED, "mmap /dev/fb0: %s", strerror(errno));
    /* The visible area at the start of the framebuffer (what we draw into). */
    var.xoffset = 0;
    var.yoffset = 0;
    CHECK(ioctl(fd, FBIOPAN_DISPLAY, &var) == 0, "FBIOPAN_DISPLAY: %s", strerror(errno));

    int cx = (int)var.xres / 2, cy = (int)var.yres / 2;
    int ax = (int)var.xres * 3 / 8, ay = (int)var.yres * 3 / 8;
    uint32_t background = rgb(0x10, 0x10, 0x30), curve = rgb(CURVE_R, CURVE_G, CURVE_B);
    fill_rect(0, 0, (int)var.xres, (int)var.yres, background);

    /* The box every curve point lies in (with the dot size), for the screenshot check. */
    printf("lissajous: drawing on %ux%u, %u bpp, line %u bytes; curve #%02x%02x%02x in box %d,%d-%d,%d\n",
           var.xres, var.yres, var.bits_per_pixel, fix.line_length, CURVE_R, CURVE_G, CURVE_B,
           cx - ax - DOT, cy - ay - DOT, cx + ax + DOT, cy + ay + DOT);
    fflush(stdout);

    double start = now_seconds(), phase = 0;
    long frames = 0;
    draw_curve(cx, cy, ax, ay, phase, curve);
    frames++;
    while (frames < max_frames && now_seconds() - start < seconds) {
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        draw_curve(cx, cy, ax, ay, phase, background);
        phase += 0.05;
        draw_curve(cx, cy, ax, ay, phase, curve);
        frames++;
    }
    /* The last frame stays on the screen. */
    CHECK(munmap(fb, size) == 0, "munmap: %s", strerror(errno));
    close(fd);
    return pass("%ld frames on %ux%u", frames, var.xres, var.yres);
}
