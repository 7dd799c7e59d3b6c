// systemd OnCalendar expressions (systemd.time(7), "Calendar Events"), checked before any
// node sees them. The accepted forms are a subset of what systemd takes: the shorthands,
// and `[weekdays] [[year-]month-day] [hour:minute[:second]] [UTC]` whose fields are `*`,
// numbers, ranges `a..b`, repetitions `a/b` and lists `a,b`. Whatever this accepts, systemd
// accepts too (test/day2.schedule.test.ts asks systemd-analyze).

const SHORTHANDS = ["minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually"];
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

const EXAMPLES = "e.g. daily, hourly, *-*-* 02:30:00, Mon..Fri 03:00 or *-*-* 00/6:00:00";

function checkField(text: string, what: string, min: number, max: number): string | undefined {
    for (const item of text.split(",")) {
        const m = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(item);
        if (!m) return `${what} ${JSON.stringify(item)} is not *, a number, a range a..b or a repetition a/b`;
        const [, from, to, step] = m;
        for (const n of [from, to].filter((x) => x !== undefined && x !== "*")) {
            if (Number(n) < min || Number(n) > max) return `${what} ${n} is outside ${min}..${max}`;
        }
        if (from === "*" && to !== undefined) return `${what} ${JSON.stringify(item)}: a range needs numbers`;
        if (to !== undefined && Number(to) < Number(from)) return `${what} range ${item} runs backwards`;
        if (step !== undefined && Number(step) === 0) return `${what} repetition ${item} needs a step above 0`;
    }
    return undefined;
}

function checkWeekdays(text: string): string | undefined {
    for (const item of text.toLowerCase().split(",")) {
        const days = item.split("..");
        if (days.length > 2 || days.some((d) => !WEEKDAYS.includes(d))) return `weekday ${JSON.stringify(item)} is not Mon..Sun, a range Mon..Fri or a list Mon,Thu`;
    }
    return undefined;
}

function checkDate(text: string): string | undefined {
    const parts = text.split("-");
    if (parts.length < 2 || parts.length > 3) return `date ${JSON.stringify(text)} is not [year-]month-day`;
    const [year, month, day] = parts.length === 3 ? parts : ["*", ...parts];
    return checkField(year, "year", 1970, 2199) ?? checkField(month, "month", 1, 12) ?? checkField(day, "day", 1, 31);
}

function checkTime(text: string): string | undefined {
    const parts = text.split(":");
    if (parts.length < 2 || parts.length > 3) return `time ${JSON.stringify(text)} is not hour:minute[:second]`;
    const [hour, minute, second] = parts;
    return checkField(hour, "hour", 0, 23) ?? checkField(minute, "minute", 0, 59) ?? (second === undefined ? undefined : checkField(second, "second", 0, 59));
}

/** Why `expr` is not an OnCalendar expression this program accepts, or undefined when it is. */
export function onCalendarProblem(expr: string): string | undefined {
    // It lands on one line of a unit file: a line break would start another directive.
    if (/[^\S ]/.test(expr)) return `must be one line with its fields separated by spaces (a systemd OnCalendar expression, ${EXAMPLES})`;
    const tokens = expr.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) return `is empty; expected a systemd OnCalendar expression (${EXAMPLES})`;
    if (tokens.length === 1 && SHORTHANDS.includes(tokens[0].toLowerCase())) return undefined;
    if (tokens[tokens.length - 1] === "UTC") tokens.pop();
    const problems: Array<string | undefined> = [];
    let seen = 0;
    if (tokens[0] && /^[A-Za-z]/.test(tokens[0])) problems.push(checkWeekdays(tokens.shift()!), (seen++, undefined));
    if (tokens[0] && tokens[0].includes("-")) problems.push(checkDate(tokens.shift()!), (seen++, undefined));
    if (tokens[0] && tokens[0].includes(":")) problems.push(checkTime(tokens.shift()!), (seen++, undefined));
    if (tokens.length > 0) problems.push(`${JSON.stringify(tokens.join(" "))} is not a weekday, date, time or UTC`);
    if (seen === 0 && !problems.some(Boolean)) problems.push("has no weekday, date or time");
    const first = problems.find(Boolean);
    return first ? `${first} (a systemd OnCalendar expression, ${EXAMPLES})` : undefined;
}
