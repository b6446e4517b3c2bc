package dev.taipan.examples.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code taipan} command line (picocli): one subcommand per task, {@code --help} on each,
 * {@code --verbose} anywhere for stack traces. Errors are one line on stderr and a non-zero exit
 * status: 2 for a bad command line, 1 for a failure while running.
 */
@Command(name = "taipan", mixinStandardHelpOptions = true, version = "taipan 0.1.0",
        description = "Pure-Java runtime for MoE, Mamba-3 and hybrid language models.",
        subcommandsRepeatable = false)
public final class TaipanCli implements Runnable {

    /** The subcommands, one line each, in the order {@code taipan --help} lists them. */
    static final List<Supplier<Object>> SUBCOMMANDS = List.of(
            LogitsCommand::new,
            GenerateCommand::new,
            BenchCommand::new,
            ConvertCommand::new,
            ChatCommand::new,
            InfoCommand::new
    );

    /** Exit status of a command line that picocli could not parse or validate. */
    static final int USAGE_ERROR = 2;
    /** Exit status of a command that failed while running. */
    static final int FAILURE = 1;

    @Spec
    private CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces of errors.")
    private boolean verbose;

    public static void main(String[] args) {
        int status;
        try (PrintWriter out = new PrintWriter(System.out, true); PrintWriter err = new PrintWriter(System.err, true)) {
            status = execute(args, out, err);
        }
        System.exit(status);
    }

    /** Runs the command line in this JVM; returns the exit status. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        int status = cl.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    /** The root command with every subcommand and the one-line error handlers. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new TaipanCli());
        for (Supplier<Object> s : SUBCOMMANDS) {
            cl.addSubcommand(s.get());
        }
        cl.setParameterExceptionHandler(TaipanCli::usageError);
        cl.setExecutionExceptionHandler(TaipanCli::failure);
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandName().equals("taipan") ? "taipan: " + e.getMessage()
                : "taipan " + cl.getCommandName() + ": " + e.getMessage() + " (see --help)");
        if (e.getCause() != null && hasVerbose(args)) {
            e.getCause().printStackTrace(err);
        }
        return USAGE_ERROR;
    }

    private static int failure(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String what = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getName() : e.getMessage();
        err.println("taipan " + cl.getCommandName() + ": error: " + what.replace('\n', ' '));
        if (verbose(parsed)) {
            e.printStackTrace(err);
        }
        return FAILURE;
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasVerbose(String[] args) {
        return List.of(args).contains("--verbose");
    }
}
