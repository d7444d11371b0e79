/* Preloaded into GUI tests by tests/sanitize.sh: dlclose() leaves every library mapped. Mesa
 * unloads its DRI driver when the last GL context goes; LeakSanitizer, which reports at exit,
 * then cannot name the frames of that driver's allocations (or names whatever library is
 * mapped at its old address next), and tests/sanitize.supp could not match them. */
int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
