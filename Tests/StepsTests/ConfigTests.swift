import Testing
@testable import Steps
