import ArgumentParser

@main
struct RefvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refvision",
        abstract: "Judges powerlifting lifts from video.",
        subcommands: [PoseCommand.self, JudgeCommand.self, ScalingCommand.self, PresignCommand.self, DoctorCommand.self,
                      BenchStagesCommand.self, RunCommand.self, StatusCommand.self, SubmitCommand.self,
                      DLQCommand.self, DispatcherCommand.self, WorkerCommand.self, NotifierCommand.self, ResendCommand.self, ReplayCommand.self, CoachesCommand.self,
                      HealthCommand.self, BenchFleetCommand.self])
}
