/*
 * serial.c - opening and configuring a concentrator's serial line, and
 * naming the serial ports a technician can choose from.
 *
 * Data flow: the configured path -> serial_open() -> a raw, non-blocking fd
 * that port.c polls and reads; the bytes then go to a driver.
 *
 * Opening is open(2) plus termios, the same code for a USB adapter and for
 * the simulator's pseudo-terminal: libserialport 0.1.1 cannot open a pty
 * (sp_open issues TIOCMGET, which a pty refuses with ENOTTY) nor a symlink
 * such as /dev/serial/by-id/... (see docs/library-notes.md).  What
 * libserialport does well on real hardware, enumeration and the USB
 * identity behind a path, is used for serial_describe() and serial_list().
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libserialport.h>

#include "radio/serial.h"
#include "radio/serlock.h"

/* UNIX 98 pseudo-terminal slaves (Documentation/admin-guide/devices.txt). */
#define SERIAL_PTY_SLAVE_MAJOR_MIN	136
#define SERIAL_PTY_SLAVE_MAJOR_MAX	143

#define SERIAL_LIST_MAX		64	/* ports serial_list() prints */

/* Standard rates only: an arbitrary rate (BOTHER) needs termios2, which
 * glibc's headers do not offer, and no concentrator we know needs one. */
static const struct {
	unsigned int	baud;
	speed_t		speed;
} serial_speeds[] = {
	{ 1200, B1200 },
	{ 2400, B2400 },
	{ 4800, B4800 },
	{ 9600, B9600 },
	{ 19200, B19200 },
	{ 38400, B38400 },
	{ 57600, B57600 },
	{ 115200, B115200 },
	{ 230400, B230400 },
	{ 460800, B460800 },
	{ 500000, B500000 },
	{ 576000, B576000 },
	{ 921600, B921600 },
	{ 1000000, B1000000 },
	{ 1500000, B1500000 },
	{ 2000000, B2000000 },
	{ 3000000, B3000000 },
};

static int
serial_speed(unsigned int baud, speed_t *speed)
{
	size_t i;

	for (i = 0; i < sizeof(serial_speeds) / sizeof(serial_speeds[0]); i++)
		if (serial_speeds[i].baud == baud) {
			*speed = serial_speeds[i].speed;
			return 0;
		}
	return -EINVAL;
}

int
serial_baud_valid(unsigned int baud)
{
	speed_t speed;

	return serial_speed(baud, &speed) == 0;
}

int
serial_configure(int fd, unsigned int baud)
{
	struct termios t;
	speed_t speed;
	int fl, r;

	if ((r = serial_speed(baud, &speed)) != 0)
		return r;
	/* tcgetattr also tells a tty from a file: ENOTTY. */
	if (tcgetattr(fd, &t) != 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	/* cfmakeraw leaves IXOFF; binary frames must never pause the line. */
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0)
		return -EINVAL;
	if (tcsetattr(fd, TCSANOW, &t) != 0)
		return -errno;
	/* A fd handed over by another process may be blocking. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1))
		return -errno;
	/* Bytes that arrived before we listened belong to no frame we
	 * asked for; the reader would drop them anyway. */
	(void)tcflush(fd, TCIFLUSH);
	/* Advisory, for `fieldbridge ports --probe`: held as long as the
	 * open file lives, in whichever process. */
	(void)flock(fd, LOCK_EX | LOCK_NB);
	return serial_exclusive(fd);
}

/*
 * TIOCEXCL: from now on open(2) of the line fails with EBUSY for any
 * process without CAP_SYS_ADMIN (a second daemon, screen, a user's
 * minicom), so nobody reads frames from under us.  The kernel clears it
 * when the last descriptor of a real line closes.  Not on a pseudo-
 * terminal (the simulator's): there the flag outlives the slave's close
 * while the master stays open, so a daemon restarted without the
 * capability (the service user) would lock itself out of the line.
 */
int
serial_exclusive(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (S_ISCHR(st.st_mode) &&
	    major(st.st_rdev) >= SERIAL_PTY_SLAVE_MAJOR_MIN &&
	    major(st.st_rdev) <= SERIAL_PTY_SLAVE_MAJOR_MAX)
		return 0;
	return ioctl(fd, TIOCEXCL) == 0 ? 0 : -errno;
}

int
serial_open(const char *path, unsigned int baud)
{
	char key[SERLOCK_KEY_MAX], holder[SERLOCK_HOLDER_MAX];
	speed_t speed;
	int fd, r, locked;

	if ((r = serial_speed(baud, &speed)) != 0)
		return r;
	/* The lock first: a line another program uses is not opened at
	 * all (opening may reset an Arduino-style concentrator).  A lock
	 * directory we may not write to leaves TIOCEXCL alone on guard. */
	locked = 0;
	if (serlock_key(path, key, sizeof(key)) == 0) {
		r = serlock_acquire(NULL, key, getpid(), holder,
		    sizeof(holder));
		if (r == -EBUSY)
			return r;
		locked = r == 0;
	}
	/* O_NOCTTY: a daemon must never acquire a controlling terminal, or
	 * a hang-up on the line would send it SIGHUP. */
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		r = -errno;
	else if ((r = serial_configure(fd, baud)) != 0)
		(void)close(fd);
	if (r != 0) {
		if (locked)
			serlock_release(NULL, key, getpid());
		return r;
	}
	return fd;
}

/* "USB 0403:6015 FTDI FT230X serial DN05ABCD"; parts the device does not
 * report are left out. */
static int
serial_usb_identity(const struct sp_port *sp, char *buf, size_t len)
{
	const char *man, *prod, *sn;
	int vid, pid, n;

	if (sp_get_port_transport(sp) != SP_TRANSPORT_USB ||
	    sp_get_port_usb_vid_pid(sp, &vid, &pid) != SP_OK)
		return -ENODEV;
	man = sp_get_port_usb_manufacturer(sp);
	prod = sp_get_port_usb_product(sp);
	sn = sp_get_port_usb_serial(sp);
	n = snprintf(buf, len, "USB %04x:%04x%s%s%s%s%s%s",
	    (unsigned int)vid & 0xffff, (unsigned int)pid & 0xffff,
	    man != NULL ? " " : "", man != NULL ? man : "",
	    prod != NULL ? " " : "", prod != NULL ? prod : "",
	    sn != NULL ? " serial " : "", sn != NULL ? sn : "");
	if (n < 0 || (size_t)n >= len)
		return -ENOBUFS;
	return 0;
}

int
serial_describe(const char *path, char *buf, size_t len)
{
	struct sp_port *sp = NULL;
	char real[PATH_MAX];
	int r;

	if (len > 0)
		buf[0] = '\0';
	/* libserialport looks the name up in /sys/class/tty and does not
	 * follow /dev/serial/by-id links itself. */
	if (realpath(path, real) == NULL)
		return -errno;
	if (sp_get_port_by_name(real, &sp) != SP_OK)
		return -ENODEV;
	r = serial_usb_identity(sp, buf, len);
	sp_free_port(sp);
	if (r != 0 && len > 0)
		buf[0] = '\0';
	return r;
}

int
serial_list(FILE *out)
{
	struct serial_info *si;
	int i, n;

	if ((si = calloc(SERIAL_LIST_MAX, sizeof(*si))) == NULL)
		return -ENOMEM;
	n = serial_enumerate(si, SERIAL_LIST_MAX);
	for (i = 0; i < n && i < SERIAL_LIST_MAX; i++) {
		fprintf(out, "%s\t%s", si[i].path, si[i].desc);
		if (si[i].usb)
			fprintf(out, "\tUSB %04x:%04x %s %s serial %s",
			    si[i].vid, si[i].pid, si[i].manufacturer,
			    si[i].product, si[i].serial);
		fputc('\n', out);
	}
	free(si);
	return n;
}

int
serial_by_id(const char *path, char *by_id)
{
	static const char dir[] = "/dev/serial/by-id";
	char real[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r = -ENOENT;

	by_id[0] = '\0';
	if (realpath(path, real) == NULL)
		return -errno;
	if ((d = opendir(dir)) == NULL)
		return -ENOENT;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    (size_t)snprintf(link, sizeof(link), "%s/%s", dir,
		    e->d_name) >= sizeof(link))
			continue;
		if (realpath(link, target) != NULL &&
		    strcmp(target, real) == 0) {
			memcpy(by_id, link, strlen(link) + 1);
			r = 0;
			break;
		}
	}
	(void)closedir(d);
	return r;
}

static void
serial_copy(char *dst, const char *src)
{
	(void)snprintf(dst, SERIAL_TEXT_MAX, "%s", src != NULL ? src : "");
}

static int
serial_info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct serial_info *)a)->path,
	    ((const struct serial_info *)b)->path);
}

int
serial_enumerate(struct serial_info *out, size_t max)
{
	struct sp_port **ports = NULL;
	struct serial_info *si;
	int vid, pid, i, r;

	r = sp_list_ports(&ports);
	if (r == SP_ERR_MEM)
		return -ENOMEM;
	if (r != SP_OK)
		return -EIO;
	for (i = 0; ports[i] != NULL; i++) {
		if ((size_t)i >= max)
			continue;
		si = &out[i];
		memset(si, 0, sizeof(*si));
		(void)snprintf(si->path, sizeof(si->path), "%s",
		    sp_get_port_name(ports[i]));
		serial_copy(si->desc, sp_get_port_description(ports[i]));
		if (sp_get_port_transport(ports[i]) == SP_TRANSPORT_USB &&
		    sp_get_port_usb_vid_pid(ports[i], &vid, &pid) == SP_OK) {
			si->usb = 1;
			si->vid = (unsigned int)vid & 0xffff;
			si->pid = (unsigned int)pid & 0xffff;
			serial_copy(si->manufacturer,
			    sp_get_port_usb_manufacturer(ports[i]));
			serial_copy(si->product,
			    sp_get_port_usb_product(ports[i]));
			serial_copy(si->serial, sp_get_port_usb_serial(ports[i]));
		}
		(void)serial_by_id(si->path, si->by_id);
	}
	sp_free_port_list(ports);
	qsort(out, (size_t)i < max ? (size_t)i : max, sizeof(*out),
	    serial_info_cmp);
	return i;
}
