/* swsync-keys show: the key frames of logs, in words. */
#ifndef KEYSHOW_H
#define KEYSHOW_H

/* Print the certificates, rotations and revocations of each log named in
 * argv[0..argc), one line a frame, then a count. Every frame is decoded and
 * its signature and chain checked. Returns an exit code (keytool.h). */
int keyshow_cmd(int argc, char **argv);

#endif
