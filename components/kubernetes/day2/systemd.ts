// The systemd units of the day-2 jobs: a oneshot service and its timer.

/** A oneshot service that runs /usr/local/lib/oslo-mesh/<job>.sh. */
export function serviceUnit(job: string, description: string): string {
    return `[Unit]
Description=${description}
After=kubelet.service

[Service]
Type=oneshot
ExecStart=/usr/local/lib/oslo-mesh/${job}.sh`;
}

/** Its timer: on the schedule, and at boot for a run missed while the machine was off. */
export function timerUnit(description: string, onCalendar: string): string {
    return `[Unit]
Description=${description}

[Timer]
OnCalendar=${onCalendar}
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target`;
}
